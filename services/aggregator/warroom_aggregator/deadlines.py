"""Each quarter's reporting deadline: reference data an admin sets, with a default when unset.

The default is 15 days after the quarter ends (Q1 ends 31 December: due 15 January), time for
a district to report its quarter's last activities. A deadline closes nothing: a report is
accepted and counted whenever it comes; it only decides whether the district was on time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from warroom_shared.fiscal import fiscal_year_start
from warroom_shared.i18n import Message

DEFAULT_DAYS_AFTER_QUARTER = 15


@dataclass(frozen=True, slots=True)
class Deadline:
    fiscal_year: int
    quarter: int
    due_on: dt.date
    default: bool  # no admin set it


# A deadline may fall at most this long after its quarter ends (beyond that, a typing error).
LATEST_AFTER_QUARTER = dt.timedelta(days=366)


def quarter_start(fiscal_year: int, quarter: int) -> dt.date:
    """The quarter's first day (fiscal year in the Buddhist Era)."""
    start = fiscal_year_start(fiscal_year)
    month = start.month - 1 + 3 * (quarter - 1)  # months since January of the start's year
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def quarter_end(fiscal_year: int, quarter: int) -> dt.date:
    if quarter == 4:
        return fiscal_year_start(fiscal_year + 1) - dt.timedelta(days=1)
    return quarter_start(fiscal_year, quarter + 1) - dt.timedelta(days=1)


def refusal(fiscal_year: int, quarter: int, due_on: dt.date) -> Message | None:
    """Why a deadline cannot be the quarter's, if it cannot: before the quarter starts, or
    more than a year after it ends."""
    earliest = quarter_start(fiscal_year, quarter)
    latest = quarter_end(fiscal_year, quarter) + LATEST_AFTER_QUARTER
    if earliest <= due_on <= latest:
        return None
    return Message("deadline_out_of_range", earliest=earliest, latest=latest)


def default_due(fiscal_year: int, quarter: int) -> dt.date:
    return quarter_end(fiscal_year, quarter) + dt.timedelta(days=DEFAULT_DAYS_AFTER_QUARTER)


async def of_year(conn: asyncpg.Connection, fiscal_year: int) -> list[Deadline]:
    """The four quarters' deadlines of a fiscal year."""
    rows = await conn.fetch(
        "SELECT quarter, due_on FROM deadlines WHERE fiscal_year = $1", fiscal_year
    )
    set_on = {r["quarter"]: r["due_on"] for r in rows}
    return [
        Deadline(fiscal_year, q, set_on.get(q) or default_due(fiscal_year, q), q not in set_on)
        for q in range(1, 5)
    ]


async def of_quarter(conn: asyncpg.Connection, fiscal_year: int, quarter: int) -> Deadline:
    due_on = await conn.fetchval(
        "SELECT due_on FROM deadlines WHERE fiscal_year = $1 AND quarter = $2",
        fiscal_year, quarter,
    )  # fmt: skip
    if due_on is None:
        return Deadline(fiscal_year, quarter, default_due(fiscal_year, quarter), True)
    return Deadline(fiscal_year, quarter, due_on, False)


async def set_due(
    conn: asyncpg.Connection, fiscal_year: int, quarter: int, due_on: dt.date
) -> None:
    await conn.execute(
        "INSERT INTO deadlines (fiscal_year, quarter, due_on) VALUES ($1, $2, $3) "
        "ON CONFLICT (fiscal_year, quarter) DO UPDATE "
        "SET due_on = excluded.due_on, updated_at = now()",
        fiscal_year, quarter, due_on,
    )  # fmt: skip
