"""How far the outbox relay is behind: rows waiting and the age of the oldest."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from warroom_reporting.api.deps import ConnDep
from warroom_shared import outbox

router = APIRouter(prefix="/v1", tags=["operations"])


class OutboxBacklog(BaseModel):
    rows: int
    oldest_age_seconds: float


@router.get("/outbox")
async def get_outbox_backlog(conn: ConnDep) -> OutboxBacklog:
    """Events stored but not yet acknowledged by JetStream."""
    backlog = await outbox.backlog(conn)
    return OutboxBacklog(rows=backlog.rows, oldest_age_seconds=backlog.oldest_age_seconds)
