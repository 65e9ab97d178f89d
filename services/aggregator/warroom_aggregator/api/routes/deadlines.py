"""Each quarter's reporting deadline: everyone reads them, an admin sets them."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from warroom_aggregator import deadlines
from warroom_aggregator.api.deps import ConnDep, FiscalYear, Viewer, invalid
from warroom_aggregator.models import Deadline, DeadlineIn
from warroom_shared.jsonbody import StrictJSONRoute
from warroom_shared.security.access import ADMIN, Allow
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1/deadlines", tags=["deadlines"], route_class=StrictJSONRoute)

Admin = Annotated[Principal, Depends(Allow(ADMIN))]


@router.get("")
async def list_deadlines(_: Viewer, conn: ConnDep, fiscal_year: FiscalYear) -> list[Deadline]:
    """The four quarters' reporting deadlines of a fiscal year (where none was set, the
    default: 15 days after the quarter ends)."""
    found = await deadlines.of_year(conn, fiscal_year)
    return [Deadline(**dataclasses.asdict(d)) for d in found]


@router.put("/{fiscal_year}/{quarter}")
async def set_deadline(
    _: Admin,
    conn: ConnDep,
    fiscal_year: Annotated[int, Path(ge=2560, le=2700, description="Buddhist Era")],
    quarter: Annotated[int, Path(ge=1, le=4)],
    body: DeadlineIn,
) -> Deadline:
    """Set a quarter's reporting deadline: it decides on time or late, never what is counted
    (a late report counts like any other)."""
    if (why := deadlines.refusal(fiscal_year, quarter, body.due_on)) is not None:
        raise invalid("due_on", why, where="body")
    await deadlines.set_due(conn, fiscal_year, quarter, body.due_on)
    return Deadline(fiscal_year=fiscal_year, quarter=quarter, due_on=body.due_on, default=False)
