"""Reconcile: the aggregator's totals against the reporting service's own counts of a period.

The comparison is a pure function of two count tables keyed by (district, programme): reports,
households and participants per sector, reports naming each stage (`stage:talk`, ...) and
reports per calendar month (`month:1`, ...). Fetching them is a thin layer around it: the
reporting service over HTTP (`GET /v1/reports:counts`), the aggregator's district rows from its
own database. Reports the aggregator counted without their month (events published before the
month was carried) are in no month there, though reporting knows theirs: the months of such a
(district, programme) are not compared.

The two sides are read at different moments, and a report accepted a second ago may still be in
the reporting service's outbox or not yet counted by the aggregator's consumer: a difference
then is only lag. So a comparison counts only when nothing was in flight just before and just
after it (the outbox empty, `GET /v1/outbox`, and every message of the consumer acked), and a
difference is real only when two such comparisons in a row agree on it; until then (at most
`wait` seconds) reconcile waits for the backlog to drain and says what was in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
from nats.js import JetStreamContext
from pydantic import BaseModel, ConfigDict

from warroom_aggregator import SCHEMA
from warroom_aggregator.events import OVERALL, SECTORS, STAGE_BITS, STAGE_PREFIX
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.store import LIVE, SECTOR_COLUMNS
from warroom_aggregator.topology import CONSUMER, REPORTS
from warroom_shared import db

FIGURES = ("reports", "households", *(s.value for s in SECTORS))
MONTH_PREFIX = "month:"
UNKNOWN_MONTH = f"{MONTH_PREFIX}unknown"  # the aggregator's only: reports without their month
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
    """Every figure that differs; a figure or bucket missing on one side counts as zero there."""
    differences = []
    for key in sorted(aggregator.keys() | reporting.keys()):
        ours, theirs = aggregator.get(key, {}), reporting.get(key, {})
        for figure in _figures(ours, theirs):
            if (a := ours.get(figure, 0)) != (r := theirs.get(figure, 0)):
                differences.append(Difference(*key, figure, a, r))
    return differences


def _figures(ours: dict[str, int], theirs: dict[str, int]) -> list[str]:
    """The figures to compare in order: totals, stages, months (unless some are unknown here)."""
    named = (ours.keys() | theirs.keys()) - set(FIGURES) - {UNKNOWN_MONTH}
    stages = [f for f in STAGE_BITS if f in named]
    months = sorted((f for f in named if f.startswith(MONTH_PREFIX)), key=_month_number)
    return [*FIGURES, *stages, *([] if ours.get(UNKNOWN_MONTH) else months)]


def _month_number(figure: str) -> int:
    return int(figure.removeprefix(MONTH_PREFIX))


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore")

    district_code: str
    programme: str
    reports: int
    households: int | None
    participants: dict[str, int | None]
    stages: dict[str, int] = {}  # reports naming each stage
    months: dict[str, int] = {}  # reports per calendar month ("1".."12") of the activity


class _PeriodCounts(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rows: list[_Row]


def reporting_counts(body: bytes) -> Counts:
    """The reporting service's answer as a count table (a null sum means zero)."""
    counts: Counts = {}
    for row in _PeriodCounts.model_validate_json(body).rows:
        figures = {"reports": row.reports, "households": row.households or 0}
        figures |= {s.value: row.participants.get(s.value) or 0 for s in SECTORS}
        figures |= {f"{STAGE_PREFIX}{stage}": n for stage, n in row.stages.items() if n}
        figures |= {f"{MONTH_PREFIX}{int(month)}": n for month, n in row.months.items() if n}
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
    """The district rows of a period, in one snapshot of the totals and the month table."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        totals = await conn.fetch(
            f"SELECT code, programme, dimension, reports, households, "
            f"{', '.join(SECTOR_COLUMNS)} FROM {LIVE.totals} WHERE scope = 'district' "
            "AND (dimension = $1 OR dimension LIKE $2) AND fiscal_year = $3 AND quarter = $4",
            OVERALL, f"{STAGE_PREFIX}%", fiscal_year, quarter,
        )  # fmt: skip
        months = await conn.fetch(
            f"SELECT code, programme, month, reports FROM {LIVE.months} "
            "WHERE scope = 'district' AND fiscal_year = $1 AND quarter = $2 AND reports <> 0",
            fiscal_year, quarter,
        )  # fmt: skip
    counts: Counts = {}
    sectors = list(zip(SECTORS, SECTOR_COLUMNS, strict=True))
    for r in totals:
        figures = counts.setdefault((r["code"], r["programme"]), {})
        if r["dimension"] != OVERALL:
            figures[r["dimension"]] = r["reports"]
            continue
        figures |= {"reports": r["reports"], "households": r["households"]}
        figures |= {s.value: r[c] for s, c in sectors}
    for r in months:
        name = f"{MONTH_PREFIX}{r['month']}" if r["month"] else UNKNOWN_MONTH
        counts.setdefault((r["code"], r["programme"]), {})[name] = r["reports"]
    return counts


@dataclass(frozen=True, slots=True)
class Backlog:
    """What was accepted but may not be in the totals yet."""

    outbox_rows: int  # stored by the reporting service, not yet published
    outbox_oldest_seconds: float
    uncounted: int  # on the stream, not yet acked by the aggregator's consumer

    @property
    def empty(self) -> bool:
        return self.outbox_rows == 0 and self.uncounted == 0

    def __str__(self) -> str:
        return (
            f"{self.outbox_rows} events in the reporting outbox (oldest "
            f"{self.outbox_oldest_seconds:.1f} s), {self.uncounted} not yet counted by the "
            "aggregator"
        )


class _Outbox(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rows: int
    oldest_age_seconds: float


async def read_backlog(client: httpx.AsyncClient, base_url: str, js: JetStreamContext) -> Backlog:
    response = await client.get(f"{base_url.rstrip('/')}/v1/outbox")
    response.raise_for_status()
    outbox = _Outbox.model_validate_json(response.content)
    info = await js.consumer_info(REPORTS, CONSUMER)
    uncounted = (info.num_pending or 0) + (info.num_ack_pending or 0)
    return Backlog(outbox.rows, outbox.oldest_age_seconds, uncounted)


@dataclass(frozen=True, slots=True)
class Result:
    differences: list[Difference]
    settled: bool  # compared twice with nothing in flight: the differences are real
    backlog: Backlog  # the last one read
    waited: float  # seconds


OnWait = Callable[[Backlog], Awaitable[None]]


async def reconcile(
    settings: AggregatorSettings,
    fiscal_year: int,
    quarter: int,
    reporting_url: str,
    client: httpx.AsyncClient,
    js: JetStreamContext,
    wait: float,
    on_wait: OnWait | None = None,
    pause: float = 0.5,
) -> Result:
    """Compare one period once nothing is in flight, waiting at most `wait` seconds for that;
    `client` carries the caller's token to the reporting service, `on_wait` hears of each
    backlog waited on."""
    began = time.monotonic()
    confirming: list[Difference] | None = None  # differences of a settled comparison, to confirm
    while True:
        before = await read_backlog(client, reporting_url, js)
        differences = await _compare(settings, fiscal_year, quarter, reporting_url, client)
        after = await read_backlog(client, reporting_url, js)
        backlog, waited = (before if after.empty else after), time.monotonic() - began
        settled = before.empty and after.empty
        if settled and (not differences or differences == confirming):
            return Result(differences, True, backlog, waited)
        # A second settled comparison tells a real difference from a report that came and was
        # counted between the two reads; it is always made, whatever is left of `wait`.
        unconfirmed = settled and confirming is None
        confirming = differences if settled else None
        if not unconfirmed:
            if waited >= wait:
                return Result(differences, False, backlog, waited)
            if on_wait is not None and not backlog.empty:
                await on_wait(backlog)
        await asyncio.sleep(pause)  # the backlog drains by itself: look again shortly


async def _compare(
    settings: AggregatorSettings,
    fiscal_year: int,
    quarter: int,
    reporting_url: str,
    client: httpx.AsyncClient,
) -> list[Difference]:
    theirs = await fetch_reporting(client, reporting_url, fiscal_year, quarter)
    conn = await db.connect(settings.database_url, SCHEMA)
    try:
        ours = await aggregator_counts(conn, fiscal_year, quarter)
    finally:
        await conn.close()
    return compare(ours, theirs)
