"""How far the outbox relay is behind: rows waiting and the age of the oldest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from warroom_reporting.api.deps import ConnDep
from warroom_shared import outbox
from warroom_shared.security.access import ADMIN, MONITOR, Allow
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["operations"])


class OutboxBacklog(BaseModel):
    rows: int
    oldest_age_seconds: float


@router.get("/outbox")
async def get_outbox_backlog(
    _: Annotated[Principal, Depends(Allow(ADMIN, MONITOR))], conn: ConnDep
) -> OutboxBacklog:
    """Events stored but not yet acknowledged by JetStream."""
    backlog = await outbox.backlog(conn)
    return OutboxBacklog(rows=backlog.rows, oldest_age_seconds=backlog.oldest_age_seconds)
