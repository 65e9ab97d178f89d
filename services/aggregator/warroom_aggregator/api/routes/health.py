"""This replica's consumer figures, and the dead letters kept so far (readiness: the shared
`/readyz` of `warroom_shared.service`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from warroom_aggregator.api.deps import ConnDep, Operator, StateDep
from warroom_aggregator.topology import CONSUMER, REPORTS
from warroom_shared.http import Problem
from warroom_shared.security.access import ADMIN, Allow

router = APIRouter(tags=["health"])


@router.get("/v1/consumer")
async def get_consumer(_: Operator, state: StateDep) -> dict[str, Any]:
    """This replica's counters and the shared consumer's backlog."""
    try:
        info = await state.js.consumer_info(REPORTS, CONSUMER, timeout=2)
    except Exception as exc:
        raise Problem(503, "nats_unavailable") from exc
    return {
        "replica": state.consumer.stats.as_dict(),
        "pending": info.num_pending,
        "ack_pending": info.num_ack_pending,
        "redelivered": info.num_redelivered,
        "totals_updates_published": state.feed.published,
    }


@router.get("/v1/dead-letters")
async def list_dead_letters(
    _: Annotated[object, Depends(Allow(ADMIN))],
    conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """How many messages were dead-lettered, and the latest of them with their reason."""
    count = await conn.fetchval("SELECT count(*) FROM dead_letters")
    rows = await conn.fetch(
        "SELECT stream_seq, subject, reason, deliveries, dead_lettered_at, traceparent, "
        "substring(data FROM 1 FOR 2000) AS data "
        "FROM dead_letters ORDER BY stream_seq DESC LIMIT $1",
        limit,
    )
    items = [{**r, "data": r["data"].decode(errors="replace")} for r in rows]
    return {"count": count, "items": items}
