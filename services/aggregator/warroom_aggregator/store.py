"""Applying a batch of events to the totals in ONE statement, so in one transaction, exactly once.

The statement records the batch's event ids in `processed_events` (`ON CONFLICT DO NOTHING
RETURNING`), moves the totals by the deltas of the newly recorded events only, and keeps the
batch's dead letters; it returns the newly recorded events. A redelivered or replayed event
changes nothing. One statement is one round trip and needs no BEGIN/COMMIT of its own.

Deltas are pre-aggregated before the upsert, so that its `INSERT ... ON CONFLICT DO UPDATE` never
holds a key twice. Python sends one row per (event, sign) as arrays; the fan-out to dimensions
and the roll-up to the nation run in the statement (`GROUPING SETS`): that keeps ~10 µs of
Python work per event off the consumer's hot path, done by the database on its own core while
the next batch is fetched. Rows are upserted in one fixed order (districts, then the nation,
which every batch touches, last so its row locks are held the shortest), so replicas committing
at once never deadlock.

The same statement keeps three smaller tables the same way: figures per month of the activity
(`month_totals`), active reports per district and day received (`received_reports`, for
timeliness) and per Sustainable Village village (`village_reports`).

Provinces have no rows of their own: a province is the sum of its districts' rows (at most 50),
which halves the rows each batch upserts; the nation keeps its rows (928 districts is too many
to sum per query).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass

import asyncpg

from warroom_aggregator.events import FACET_BITS, SECTORS
from warroom_aggregator.topology import NATIONAL_CODE

SECTOR_COLUMNS = tuple(f"p_{s.value}" for s in SECTORS)
FIGURE_COLUMNS = ("reports", "households", *SECTOR_COLUMNS)
KEY_COLUMNS = ("scope", "code", "fiscal_year", "quarter", "programme", "dimension")
MONTH_KEY_COLUMNS = ("scope", "code", "fiscal_year", "quarter", "month", "programme")
SCOPES = ("district", "national")  # the scopes with rows of their own, in upsert (lock) order


@dataclass(frozen=True, slots=True)
class Tables:
    """The tables a batch writes, in the order it locks them."""

    processed: str
    totals: str
    months: str
    received: str
    villages: str

    def names(self) -> tuple[str, ...]:
        return astuple(self)


LIVE = Tables("processed_events", "totals", "month_totals", "received_reports", "village_reports")
REBUILD = Tables(*(f"{name}_rebuild" for name in LIVE.names()))

_PARTS = {
    "seq": "bigint", "sign": "int", "district": "text", "fiscal_year": "int", "quarter": "int",
    "programme": "text", "mask": "int", "households": "int",
} | dict.fromkeys(SECTOR_COLUMNS, "int") | {
    "month": "int", "subdistrict": "text", "village": "int", "received_on": "date",
}  # fmt: skip
# int, not bigint: sum(int) is a bigint, sum(bigint) a slower numeric; events.Count bounds them.
_LETTERS = {"stream_seq": "bigint", "subject": "text", "reason": "text", "deliveries": "int",
            "data": "bytea", "traceparent": "text"}  # fmt: skip


def _arrays(columns: dict[str, str], first: int) -> str:
    return ", ".join(f"${i}::{t}[]" for i, t in enumerate(columns.values(), first))


@functools.cache
def apply_sql(tables: Tables) -> str:
    dimensions = ", ".join(f"('{d}', {bit})" for d, bit in FACET_BITS.items())
    sums = ", ".join(f"sum(sign * {c}) AS {c}" for c in ("households", *SECTOR_COLUMNS))
    scope = f"(ARRAY{list(SCOPES)})[rank]"
    return f"""
    WITH new AS (
        -- sorted: two replicas recording one redelivered id wait for each other, not deadlock
        INSERT INTO {tables.processed} (event_id, stream_seq)
        SELECT * FROM unnest($1::uuid[], $2::bigint[]) ORDER BY 1
        ON CONFLICT DO NOTHING RETURNING stream_seq
    ), letters AS (
        INSERT INTO dead_letters ({", ".join(_LETTERS)})
        SELECT * FROM unnest({_arrays(_LETTERS, 3)})
        ON CONFLICT (stream_seq) DO NOTHING
    ), parts AS (
        SELECT * FROM unnest({_arrays(_PARTS, 3 + len(_LETTERS))}) AS p({", ".join(_PARTS)})
        WHERE seq IN (SELECT stream_seq FROM new)
    ), fanned AS (
        SELECT parts.*, d.dimension
        FROM parts JOIN (VALUES {dimensions}) AS d(dimension, bit) ON parts.mask & d.bit <> 0
    ), rolled AS (
        SELECT grouping(district) + 1 AS rank, coalesce(district, '{NATIONAL_CODE}') AS code,
               fiscal_year, quarter, programme, dimension, sum(sign) AS reports, {sums}
        FROM fanned
        GROUP BY fiscal_year, quarter, programme, dimension, GROUPING SETS ((district), ())
    ), upserted AS (
        INSERT INTO {tables.totals} AS t ({", ".join(KEY_COLUMNS + FIGURE_COLUMNS)})
        SELECT {scope}, code, fiscal_year, quarter, programme, dimension,
               {", ".join(FIGURE_COLUMNS)}
        FROM rolled
        ORDER BY rank, code COLLATE "C", fiscal_year, quarter, programme COLLATE "C",
                 dimension COLLATE "C"
        ON CONFLICT ({", ".join(KEY_COLUMNS)}) DO UPDATE
        SET {", ".join(f"{c} = t.{c} + excluded.{c}" for c in FIGURE_COLUMNS)}
    ), months AS (
        SELECT grouping(district) + 1 AS rank, coalesce(district, '{NATIONAL_CODE}') AS code,
               fiscal_year, quarter, month, programme, sum(sign) AS reports, {sums}
        FROM parts
        GROUP BY fiscal_year, quarter, month, programme, GROUPING SETS ((district), ())
    ), months_upserted AS (
        INSERT INTO {tables.months} AS t ({", ".join(MONTH_KEY_COLUMNS + FIGURE_COLUMNS)})
        SELECT {scope}, code, fiscal_year, quarter, month, programme, {", ".join(FIGURE_COLUMNS)}
        FROM months
        ORDER BY rank, code COLLATE "C", fiscal_year, quarter, month, programme COLLATE "C"
        ON CONFLICT ({", ".join(MONTH_KEY_COLUMNS)}) DO UPDATE
        SET {", ".join(f"{c} = t.{c} + excluded.{c}" for c in FIGURE_COLUMNS)}
    ), received AS (
        INSERT INTO {tables.received} AS t (district, fiscal_year, quarter, received_on, reports)
        SELECT district, fiscal_year, quarter, coalesce(received_on, '-infinity'), sum(sign)
        FROM parts GROUP BY 1, 2, 3, 4
        ORDER BY fiscal_year, quarter, district COLLATE "C", 4
        ON CONFLICT (fiscal_year, quarter, district, received_on) DO UPDATE
        SET reports = t.reports + excluded.reports
    ), villages AS (
        INSERT INTO {tables.villages} AS t
            (district, fiscal_year, quarter, subdistrict_code, village_no, reports)
        SELECT district, fiscal_year, quarter, subdistrict, village, sum(sign)
        FROM parts WHERE village IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY fiscal_year, quarter, district COLLATE "C", subdistrict COLLATE "C", village
        ON CONFLICT (fiscal_year, quarter, district, subdistrict_code, village_no) DO UPDATE
        SET reports = t.reports + excluded.reports
    )
    SELECT stream_seq FROM new
    """


@dataclass(frozen=True, slots=True)
class DeadLetter:
    stream_seq: int
    subject: str
    reason: str
    deliveries: int
    data: bytes
    traceparent: str | None = None  # of the request that caused the event, if it carried one


async def apply(
    conn: asyncpg.Connection,
    tables: Tables,
    events: Sequence[tuple[uuid.UUID, int]],
    rows: Sequence[tuple[object, ...]],
    letters: Sequence[DeadLetter] = (),
) -> set[int]:
    """Record events (id, stream sequence), move the totals by the delta rows (`seq` first, then
    `events.Figures.row`) of those new to `processed_events`, keep dead letters; returns the
    sequences of the newly recorded events."""
    columns = [_columns(events, 2), _columns(letters, len(_LETTERS)), _columns(rows, len(_PARTS))]
    records = await conn.fetch(apply_sql(tables), *(c for group in columns for c in group))
    return {r[0] for r in records}


def _columns(rows: Sequence[Sequence[object]] | Sequence[DeadLetter], width: int) -> list[object]:
    """Rows as one array per column (what `unnest` takes), empty arrays for no rows."""
    if not rows:
        return [[] for _ in range(width)]
    return list(zip(*(astuple(r) if isinstance(r, DeadLetter) else r for r in rows), strict=True))
