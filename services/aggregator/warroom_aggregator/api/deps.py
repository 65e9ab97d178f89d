"""Dependencies of the routes: a connection, the ready directory, a validated totals filter."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from warroom_aggregator.models import Scope
from warroom_aggregator.queries import TotalsFilter
from warroom_aggregator.state import State
from warroom_aggregator.topology import NATIONAL_CODE
from warroom_shared.directory import DistrictDirectory
from warroom_shared.domain import Dimension, Programme, Stage
from warroom_shared.http import Problem
from warroom_shared.i18n import Message
from warroom_shared.security.access import ADMIN, EVERYONE, MONITOR, Allow
from warroom_shared.security.principal import Principal

CODE_DIGITS: dict[str, int | None] = {"national": None, "province": 2, "district": 4}
FiscalYear = Annotated[int, Query(ge=2560, le=2700, description="Buddhist Era", examples=[2568])]
Quarter = Annotated[int, Query(ge=1, le=4, description="Q1 = Oct-Dec")]


# Dependencies are `async def` even with nothing to await: FastAPI runs a plain `def` one in a
# worker thread, a hop that costs more than the whole totals query.


async def get_state(request: Request) -> State:
    state: State = request.app.state.aggregator
    return state


StateDep = Annotated[State, Depends(get_state)]


async def get_conn(state: StateDep) -> AsyncIterator[asyncpg.Connection]:
    async with state.pool.acquire() as conn:
        yield conn


async def ready_directory(state: StateDep) -> DistrictDirectory:
    """The district directory, or 503 until its first load from the registry's KV bucket
    (an empty bucket too: the registry has not published the directory yet)."""
    if not state.directory.ready.is_set() or not state.directory.districts:
        raise Problem(503, "directory_unavailable", headers={"Retry-After": "5"})
    return state.directory


ConnDep = Annotated[asyncpg.Connection, Depends(get_conn)]
Viewer = Annotated[Principal, Depends(Allow(*EVERYONE))]  # officers: their area only
Operator = Annotated[Principal, Depends(Allow(ADMIN, MONITOR))]
DirectoryDep = Annotated[DistrictDirectory, Depends(ready_directory)]


def invalid(field: str, message: str, where: str = "query") -> RequestValidationError:
    """A 422 with a field message, the same shape as FastAPI's own validation errors."""
    return RequestValidationError([{"loc": (where, field), "msg": message, "type": "value_error"}])


@dataclasses.dataclass(frozen=True, slots=True)
class AskedFilter:
    """A totals filter as the request gave it; with no scope named, the caller's own area."""

    given: TotalsFilter  # the nation where no scope was named
    scope_named: bool

    def for_caller(self, principal: Principal | None, by: str | None = None) -> TotalsFilter:
        """The filter with its scope: as named, else the caller's own area (an officer's
        district or province, the nation for everyone else), widened to the narrowest place
        `by` breaks down: a province for by=district, the nation for by=province."""
        if self.scope_named or principal is None or principal.national or by == "province":
            return self.given
        if by == "district" or principal.district is None:
            assert principal.province is not None
            return dataclasses.replace(self.given, scope="province", code=principal.province)
        return dataclasses.replace(self.given, scope="district", code=principal.district)


async def totals_filter(
    state: StateDep,
    scope: Annotated[Scope | None, Query(description="left out: the caller's area")] = None,
    code: Annotated[
        str | None, Query(pattern=r"^[0-9]{2}([0-9]{2})?$", description="2 or 4 digits")
    ] = None,
    fiscal_year: Annotated[int | None, Query(ge=2560, le=2700, description="Buddhist Era")] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    programme: Programme | None = None,
    dimension: Dimension | None = None,
    stage: Annotated[Stage | None, Query(description="a participation stage")] = None,
) -> AskedFilter:
    """Filters left out mean "all", a scope left out the caller's own area (an officer's
    district or province, the nation for everyone else); a code must match its scope and
    exist in the directory."""
    if stage is not None and dimension is not None:
        raise invalid("stage", Message("stage_with_dimension"))
    if scope is None and code is not None:
        raise invalid("code", Message("code_needs_scope"))
    digits = CODE_DIGITS[scope or "national"]
    if digits is None and code is not None:
        raise invalid("code", Message("national_no_code"))
    if digits is not None and (code is None or len(code) != digits):
        raise invalid("code", Message("scope_needs_code", scope=scope, digits=digits))
    if scope is not None and code is not None:
        _must_exist(await ready_directory(state), scope, code)
    given = TotalsFilter(
        scope or "national", code or NATIONAL_CODE, fiscal_year, quarter, programme, dimension,
        stage,
    )  # fmt: skip
    return AskedFilter(given, scope_named=scope is not None)


def _must_exist(directory: DistrictDirectory, scope: str, code: str) -> None:
    known = directory.in_province(code) if scope == "province" else directory.get(code)
    if not known:
        raise Problem(404, f"{scope}_not_found", code=code)


FilterDep = Annotated[AskedFilter, Depends(totals_filter)]
