"""Read side: totals, breakdowns and reported districts, each a bounded read of bucket rows.

A filter left out means "all of it": the query sums the rows of every value. A province is the
sum of its districts' rows, found as a range of codes (a district code starts with its
province's). Every query reads at most a few thousand rows, whatever the report count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from warroom_aggregator.events import DIMENSION_BITS, OVERALL, STAGE_BITS, STAGE_PREFIX
from warroom_aggregator.models import Scope
from warroom_aggregator.store import FIGURE_COLUMNS
from warroom_aggregator.topology import NATIONAL_CODE
from warroom_shared.domain import Dimension, Programme, Stage

SUMS = ", ".join(f"coalesce(sum({c}), 0)::bigint AS {c}" for c in FIGURE_COLUMNS)
GROUP_KEYS = {"province": "left(code, 2)", "district": "code", "quarter": "quarter::text",
              "programme": "programme", "dimension": "dimension",
              "stage": f"substr(dimension, {len(STAGE_PREFIX) + 1})"}  # fmt: skip
_FACETS = {"dimension": [d for d in DIMENSION_BITS if d != OVERALL], "stage": list(STAGE_BITS)}


@dataclass(frozen=True, slots=True)
class TotalsFilter:
    scope: Scope = "national"
    code: str = NATIONAL_CODE
    fiscal_year: int | None = None
    quarter: int | None = None
    programme: Programme | None = None
    dimension: Dimension | None = None
    stage: Stage | None = None


class _Where:
    """A WHERE clause built with numbered parameters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list[object] = []

    def add(self, template: str, *values: object) -> None:
        """`template` names its parameters {0}, {1}, ..."""
        numbers = [f"${len(self.args) + i + 1}" for i in range(len(values))]
        self.parts.append(template.format(*numbers))
        self.args.extend(values)

    def sql(self) -> str:
        return " AND ".join(self.parts) or "true"


def _rows_of(where: _Where, scope: str, code: str | None) -> None:
    """The rows holding a scope's figures: the nation's, one district's, or a province's
    districts; `code` None means every district."""
    if scope == "province" and code is not None:
        where.add("scope = 'district' AND code BETWEEN {0} AND {1}", code + "00", code + "99")
    elif scope == "province" or code is None:
        where.add("scope = 'district'")
    else:
        where.add("scope = {0} AND code = {1}", scope, code)


def _period(where: _Where, f: TotalsFilter) -> None:
    """The filter's fiscal year, quarter and programme."""
    if f.fiscal_year is not None:
        where.add("fiscal_year = {0}", f.fiscal_year)
    if f.quarter is not None:
        where.add("quarter = {0}", f.quarter)
    if f.programme is not None:
        where.add("programme = {0}", f.programme.value)


def _facet(where: _Where, f: TotalsFilter, by: str | None = None) -> None:
    """The one facet of the totals table the rows are read from: a dimension, a stage, every
    value of `by`'s facet, or the overall figures."""
    if f.dimension is not None:
        where.add("dimension = {0}", f.dimension.value)
    elif f.stage is not None:  # a stage is a facet of its own: never with a dimension
        where.add("dimension = {0}", STAGE_PREFIX + f.stage.value)
    elif by in _FACETS:
        where.add("dimension = ANY({0}::text[])", _FACETS[by])
    else:
        where.add("dimension = {0}", OVERALL)


async def totals(conn: asyncpg.Connection, f: TotalsFilter) -> asyncpg.Record:
    where = _Where()
    _rows_of(where, f.scope, f.code)
    _period(where, f)
    _facet(where, f)
    row = await conn.fetchrow(f"SELECT {SUMS} FROM totals WHERE {where.sql()}", *where.args)
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return row


async def breakdown(conn: asyncpg.Connection, f: TotalsFilter, by: str) -> list[asyncpg.Record]:
    """Figures per value of `by` (not `sector`): per province or district of the filter's scope,
    or per quarter, programme or dimension of the filter's own code."""
    where = _Where()
    if by in ("province", "district"):
        _rows_of(where, "province", f.code if f.scope == "province" else None)
    else:
        _rows_of(where, f.scope, f.code)
    _period(where, f)
    _facet(where, f, by)
    key = GROUP_KEYS[by]
    rows = await conn.fetch(
        f"SELECT {key} AS key, {SUMS} FROM totals WHERE {where.sql()} GROUP BY 1 ORDER BY 1",
        *where.args,
    )
    return list(rows)


async def month_breakdown(conn: asyncpg.Connection, f: TotalsFilter) -> list[asyncpg.Record]:
    """Figures per calendar month (0: unknown) of the filter's own code and period."""
    where = _Where()
    _rows_of(where, f.scope, f.code)
    _period(where, f)
    rows = await conn.fetch(
        f"SELECT month AS key, {SUMS} FROM month_totals WHERE {where.sql()} GROUP BY 1",
        *where.args,
    )
    return list(rows)


async def reported_districts(
    conn: asyncpg.Connection, fiscal_year: int, quarter: int, due_on: dt.date
) -> dict[str, bool]:
    """Districts with at least one active report in the period, each with whether one of them
    was received by `due_on` (a day unknown, -infinity, counts as by then)."""
    rows = await conn.fetch(
        "SELECT district, bool_or(reports > 0 AND received_on <= $3) AS on_time "
        "FROM received_reports WHERE fiscal_year = $1 AND quarter = $2 "
        "GROUP BY district HAVING sum(reports) > 0",
        fiscal_year, quarter, due_on,
    )  # fmt: skip
    return {r["district"]: r["on_time"] for r in rows}


async def reported_villages(
    conn: asyncpg.Connection, fiscal_year: int, quarter: int, districts: Sequence[str]
) -> dict[tuple[str, int], int]:
    """Active Sustainable Village reports per (subdistrict, village no.) of some districts."""
    rows = await conn.fetch(
        "SELECT subdistrict_code, village_no, sum(reports)::bigint AS reports "
        "FROM village_reports WHERE fiscal_year = $1 AND quarter = $2 "
        "AND district = ANY($3::text[]) GROUP BY 1, 2 HAVING sum(reports) > 0",
        fiscal_year, quarter, list(districts),
    )  # fmt: skip
    return {(r["subdistrict_code"], r["village_no"]): r["reports"] for r in rows}


PeriodKey = tuple[str, str, int, int]  # scope, code, fiscal year, quarter


async def period_totals(
    conn: asyncpg.Connection, keys: Sequence[PeriodKey]
) -> list[asyncpg.Record]:
    """Overall figures (all programmes) of each (scope, code, fiscal year, quarter).

    One pass over the overall rows of the keys' periods (at most a few thousand), whatever the
    number of keys, and the keys picked from the result. A join of the keys with `totals` was
    planned while the table was still small and kept (asyncpg prepares, PostgreSQL settles on a
    generic plan): a nested loop over every district row of the period per key, which took the
    whole statement timeout (15 s) at 2,800 keys during a backlog and halved its consumption."""
    periods = sorted({(year, quarter) for _, _, year, quarter in keys})
    in_periods = "(fiscal_year, quarter) IN (SELECT * FROM unnest($1::int[], $2::int[]))"
    rows = await conn.fetch(
        f"SELECT scope, code, fiscal_year, quarter, {SUMS} FROM totals "
        f"WHERE dimension = $3 AND {in_periods} GROUP BY 1, 2, 3, 4 "
        f"UNION ALL SELECT 'province', left(code, 2), fiscal_year, quarter, {SUMS} FROM totals "
        f"WHERE scope = 'district' AND dimension = $3 AND {in_periods} GROUP BY 2, 3, 4",
        *zip(*periods, strict=True), OVERALL,
    )  # fmt: skip
    wanted = set(keys)
    return [r for r in rows if (r["scope"], r["code"], r["fiscal_year"], r["quarter"]) in wanted]
