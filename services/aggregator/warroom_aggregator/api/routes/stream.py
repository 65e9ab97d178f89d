"""Server-Sent Events of total changes, coalesced: at most one update per `stream_interval`, which
is shorter than the change feed's `publish_interval`, so that each round of the feed goes out as it
arrives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from warroom_aggregator.api.deps import StateDep, Viewer
from warroom_aggregator.broadcast import Broadcaster
from warroom_aggregator.models import Scope
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["live"])


@router.get("/stream", response_class=StreamingResponse)
async def get_stream(
    principal: Viewer, state: StateDep, scope: Scope | None = None
) -> StreamingResponse:
    """`event: totals` with the new overall totals of each changed scope, code and quarter
    (the latest known of each first) within the caller's area; a `:` comment line keeps a quiet
    connection open."""
    settings = state.settings
    events = _events(
        state.broadcaster, principal, scope, settings.stream_interval, settings.stream_heartbeat
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    broadcaster: Broadcaster,
    principal: Principal,
    scope: str | None,
    interval: float,
    heartbeat: float,
) -> AsyncIterator[str]:
    version = 0
    with broadcaster.client():
        yield "retry: 2000\n\n"
        while not broadcaster.closed:
            if not await broadcaster.wait(version, heartbeat):
                yield ": heartbeat\n\n"
                continue
            version, payloads = broadcaster.since(version, scope, principal.covers)
            for payload in payloads:
                yield f"event: totals\ndata: {payload}\n\n"
            # Coalesce: whatever changes meanwhile goes out as the latest state in the next round.
            await asyncio.sleep(interval)
