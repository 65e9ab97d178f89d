"""Reconcile: the aggregator's totals against the reporting service's own counts of a period.

The comparison is a pure function of two count tables keyed by (district, programme); fetching
them is a thin layer around it: the reporting service over HTTP (`GET /v1/reports:counts`),
the aggregator's district rows from its own database.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx
from pydantic import BaseModel, ConfigDict

from warroom_aggregator import SCHEMA
from warroom_aggregator.events import OVERALL, SECTORS
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.store import SECTOR_COLUMNS
from warroom_shared import db

FIGURES = ("reports", "households", *(s.value for s in SECTORS))
Counts = dict[tuple[str, str], dict[str, int]]  # (district, programme) -> figure -> count


@dataclass(frozen=True, slots=True)
class Difference:
    district_code: str
    programme: str
    figure: str
    aggregator: int
    reporting: int

    def __str__(self) -> str:
        return (
            f"{self.district_code} {self.programme} {self.figure}: aggregator {self.aggregator}, "
            f"reporting {self.reporting} ({self.aggregator - self.reporting:+d})"
        )


def compare(aggregator: Counts, reporting: Counts) -> list[Difference]:
    """Every figure that differs; a bucket missing on one side counts as zeros there."""
    zeros = dict.fromkeys(FIGURES, 0)
    return [
        Difference(district, programme, figure, ours, theirs)
        for district, programme in sorted(aggregator.keys() | reporting.keys())
        for figure in FIGURES
        if (ours := aggregator.get((district, programme), zeros).get(figure, 0))
        != (theirs := reporting.get((district, programme), zeros).get(figure, 0))
    ]


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore")

    district_code: str
    programme: str
    reports: int
    households: int | None
    participants: dict[str, int | None]


class _PeriodCounts(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rows: list[_Row]


def reporting_counts(body: bytes) -> Counts:
    """The reporting service's answer as a count table (a null sum means zero)."""
    counts: Counts = {}
    for row in _PeriodCounts.model_validate_json(body).rows:
        figures = {"reports": row.reports, "households": row.households or 0}
        figures |= {s.value: row.participants.get(s.value) or 0 for s in SECTORS}
        counts[(row.district_code, row.programme)] = figures
    return counts


async def fetch_reporting(
    client: httpx.AsyncClient, base_url: str, fiscal_year: int, quarter: int
) -> Counts:
    response = await client.get(
        f"{base_url.rstrip('/')}/v1/reports:counts",
        params={"fiscal_year": fiscal_year, "quarter": quarter},
    )
    response.raise_for_status()
    return reporting_counts(response.content)


async def aggregator_counts(conn: asyncpg.Connection, fiscal_year: int, quarter: int) -> Counts:
    rows = await conn.fetch(
        f"SELECT code, programme, reports, households, {', '.join(SECTOR_COLUMNS)} FROM totals "
        "WHERE scope = 'district' AND dimension = $1 AND fiscal_year = $2 AND quarter = $3",
        OVERALL, fiscal_year, quarter,
    )  # fmt: skip
    sectors = list(zip(SECTORS, SECTOR_COLUMNS, strict=True))
    return {
        (r["code"], r["programme"]): {"reports": r["reports"], "households": r["households"]}
        | {s.value: r[c] for s, c in sectors}
        for r in rows
    }


async def reconcile(
    settings: AggregatorSettings,
    fiscal_year: int,
    quarter: int,
    reporting_url: str,
    client: httpx.AsyncClient,
) -> list[Difference]:
    """Compare one period; `client` carries the caller's token to the reporting service."""
    theirs = await fetch_reporting(client, reporting_url, fiscal_year, quarter)
    conn = await db.connect(settings.database_url, SCHEMA)
    try:
        ours = await aggregator_counts(conn, fiscal_year, quarter)
    finally:
        await conn.close()
    return compare(ours, theirs)
