"""Running totals: one figure set for a filter, or a table broken down by one dimension."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends

from warroom_aggregator import labels, queries
from warroom_aggregator.api.deps import ConnDep, FilterDep, StateDep, Viewer, invalid
from warroom_aggregator.models import (
    Breakdown,
    BreakdownBy,
    BreakdownRow,
    FigureSet,
    Scope,
    Totals,
)
from warroom_aggregator.queries import TotalsFilter
from warroom_aggregator.store import FIGURE_COLUMNS
from warroom_shared.directory import DistrictDirectory
from warroom_shared.domain import Stage
from warroom_shared.i18n import Message
from warroom_shared.security.access import EVERYONE, AllowAnonymous, outside_area, unauthenticated
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1/totals", tags=["totals"])


async def headline_viewer(
    principal: Annotated[Principal | None, Depends(AllowAnonymous(*EVERYONE))],
    state: StateDep,
    scope: Scope | None = None,
) -> Principal | None:
    """The caller; none for the national headline (scope national or left out) where the
    operator made it public."""
    headline = scope in (None, "national")
    if principal is None and not (state.settings.public_national_totals and headline):
        raise unauthenticated()
    return principal


MaybeViewer = Annotated[Principal | None, Depends(headline_viewer)]


def _in_area(principal: Principal, f: TotalsFilter) -> None:
    if not principal.covers(f.scope, f.code):
        raise outside_area(f.scope, f.code)


@router.get("")
async def get_totals(
    principal: MaybeViewer, asked: FilterDep, conn: ConnDep, state: StateDep
) -> Totals:
    """Reports, participants per sector and households of a scope (left out: the caller's own
    area, which the answer's scope and code name); left-out filters mean all. The national
    headline needs no token where the operator made it public."""
    f = asked.for_caller(principal)
    if principal is not None:
        _in_area(principal, f)
    figures = FigureSet.from_row(await queries.totals(conn, f))
    name_th, name_en = labels.place(state.directory, f.scope, f.code)
    return Totals(**figures.model_dump(), **_echo(f), name_th=name_th, name_en=name_en)


@router.get("/breakdown")
async def get_breakdown(
    principal: Viewer, by: BreakdownBy, asked: FilterDep, conn: ConnDep, state: StateDep
) -> Breakdown:
    """The same figures per province, district, quarter, month, programme, dimension, stage
    (the funnel, in its order) or sector; with no scope, of the caller's own area (the
    nation's provinces for by=province, a province's districts for by=district)."""
    f = asked.for_caller(principal, by)
    _in_area(principal, f)
    _check_breakdown(by, f)
    if by == "sector":
        rows = _sector_rows(FigureSet.from_row(await queries.totals(conn, f)))
    elif by == "month":
        rows = _month_rows(f, await queries.month_breakdown(conn, f))
    else:
        found = {r["key"]: FigureSet.from_row(r) for r in await queries.breakdown(conn, f, by)}
        keys = _keys(by, found.keys() | _places(state.directory, by, f))
        names = labels.namer(state.directory, by)
        rows = [_row(key, names(key), found.get(key) or ZERO) for key in keys]
    return Breakdown(by=by, **_echo(f), rows=rows)


def _check_breakdown(by: BreakdownBy, f: TotalsFilter) -> None:
    if by == "province" and f.scope != "national":
        raise invalid("by", Message("by_province_scope"))
    if by == "district" and f.scope == "district":
        raise invalid("by", Message("by_district_scope"))
    if by in ("dimension", "stage") and (f.dimension or f.stage):
        raise invalid("by", Message("by_takes_no_filter", by=by))
    if by == "month" and f.fiscal_year is None:
        raise invalid("fiscal_year", Message("by_month_needs_year"))
    if by == "month" and (f.dimension or f.stage):
        raise invalid("by", Message("by_takes_no_filter", by="month"))


def _keys(by: str, keys: set[str]) -> list[str]:
    """Stages in the funnel's order (talk, think, act, benefit), the rest sorted."""
    if by == "stage":
        return [s.value for s in Stage]
    return sorted(keys)


def _month_rows(f: TotalsFilter, found: list[asyncpg.Record]) -> list[BreakdownRow]:
    """Each month of the period in order, then reports whose month is unknown (events from
    before the month was carried), if any."""
    assert f.fiscal_year is not None
    figures = {r["key"]: FigureSet.from_row(r) for r in found}
    rows = []
    for month in labels.months_of(f.quarter):
        key = labels.month_key(f.fiscal_year, month)
        rows.append(_row(key, labels.month_names(f.fiscal_year, month), figures.get(month) or ZERO))
    if (unknown := figures.get(0)) is not None and unknown != ZERO:
        rows.append(_row(labels.UNKNOWN_MONTH, labels.UNKNOWN_MONTH_NAMES, unknown))
    return rows


ZERO = FigureSet.from_row(dict.fromkeys(FIGURE_COLUMNS, 0))


def _places(directory: DistrictDirectory, by: str, f: TotalsFilter) -> set[str]:
    """Every province or district of the programme a breakdown lists, with zeros where nothing
    was reported (none until the directory is loaded: then only those with totals)."""
    if by == "province":
        return {d.province_code for d in directory.in_programme()}
    if by == "district" and f.scope == "province":
        return {d.code for d in directory.in_province(f.code) if d.in_programme}
    if by == "district":
        return {d.code for d in directory.in_programme()}
    return set()


def _echo(f: TotalsFilter) -> dict[str, object]:
    return {"scope": f.scope, "code": f.code, "fiscal_year": f.fiscal_year,
            "quarter": f.quarter, "programme": f.programme, "dimension": f.dimension,
            "stage": f.stage}  # fmt: skip


def _row(key: str, names: labels.Names, figures: FigureSet) -> BreakdownRow:
    return BreakdownRow(key=key, name_th=names[0], name_en=names[1], **figures.model_dump())


def _sector_rows(figures: FigureSet) -> list[BreakdownRow]:
    """A sector counts participants only: reports and households do not split by sector."""
    rows = []
    for sector, count in figures.participants.items():
        name_th, name_en = labels.domain("sector", sector.value)
        row = BreakdownRow(
            key=sector.value, name_th=name_th, name_en=name_en, reports=None,
            participants=None, participants_total=count, households=None,
        )  # fmt: skip
        rows.append(row)
    return rows
