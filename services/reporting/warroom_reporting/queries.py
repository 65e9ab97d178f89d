"""Read side of the reporting service: filtered lists (cursor pages), CSV export, counts."""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import hashlib
import io
import re
import uuid
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from warroom_reporting.models import Report
from warroom_reporting.store import REPORT_COLUMNS
from warroom_shared.domain import Sector, Stage
from warroom_shared.fiscal import fiscal_year_start
from warroom_shared.http import Problem

Status = Literal["active", "retracted", "all"]
# newest first (the default) or oldest first, by activity date; the report id breaks ties
Order = Literal["-activity_date", "activity_date"]
NEWEST_FIRST: Order = "-activity_date"


@dataclass(frozen=True)
class ReportFilter:
    """What a list or an export holds, and in which order. `since` and `until` (the query's
    `from` and `to`) bound the activity date, both inclusive."""

    district: str | None = None
    province: str | None = None
    subdistrict: str | None = None
    fiscal_year: int | None = None
    quarter: int | None = None
    programme: str | None = None
    status: Status = "active"
    since: dt.date | None = None
    until: dt.date | None = None
    dimension: str | None = None
    stage: str | None = None
    order: Order = NEWEST_FIRST

    def where(self) -> tuple[str, list[Any]]:
        clauses, args = ["true"], []

        def add(condition: str, value: Any) -> None:
            args.append(value)
            clauses.append(condition.replace("?", f"${len(args)}"))

        columns = {
            "district_code": self.district, "province_code": self.province,
            "subdistrict_code": self.subdistrict, "fiscal_year": self.fiscal_year,
            "quarter": self.quarter, "programme": self.programme,
            "status": None if self.status == "all" else self.status,
        }  # fmt: skip
        for column, value in columns.items():
            if value is not None:
                add(f"{column} = ?", value)
        for column, value in (("dimensions", self.dimension), ("stages", self.stage)):
            if value is not None:
                add(f"? = ANY({column})", value)
        first, last = self.days()
        if first is not None:
            add("activity_date >= ?", first)
        if last is not None:
            add("activity_date <= ?", last)
        return " AND ".join(clauses), args

    def days(self) -> tuple[dt.date | None, dt.date | None]:
        """The activity dates the filter allows, from `since`/`until` and the fiscal period
        (so that a period's list reads its stretch of the activity-date indexes)."""
        first, last = self.since, self.until
        if self.fiscal_year is not None:
            start, end = _period_days(self.fiscal_year, self.quarter)
            first = start if first is None else max(first, start)
            last = end if last is None else min(last, end)
        return first, last

    def order_by(self) -> str:
        direction = "DESC" if self.order == NEWEST_FIRST else "ASC"
        return f"activity_date {direction}, report_id {direction}"

    def fingerprint(self) -> str:
        """Tells this filter and order from any other (a cursor carries it)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


def _period_days(fiscal_year: int, quarter: int | None) -> tuple[dt.date, dt.date]:
    """The first and last day of a fiscal year, or of one of its quarters."""
    start = fiscal_year_start(fiscal_year)
    if quarter is None:
        return start, fiscal_year_start(fiscal_year + 1) - dt.timedelta(days=1)
    months = start.month - 1 + 3 * (quarter - 1)
    first = dt.date(start.year + months // 12, months % 12 + 1, 1)
    months += 3
    after = dt.date(start.year + months // 12, months % 12 + 1, 1)
    return first, after - dt.timedelta(days=1)


class BadCursor(ValueError):
    """A cursor that is not one of this list's (another filter's or order's, or not a cursor)."""


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last report's activity date and id."""

    activity_date: dt.date
    report_id: uuid.UUID

    def cursor(self, flt: ReportFilter) -> str:
        """Opaque to clients; it names the filter and order it belongs to."""
        text = f"{self.activity_date.isoformat()}/{self.report_id}/{flt.fingerprint()}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def of(cls, cursor: str, flt: ReportFilter) -> Position:
        """The position a cursor of `flt` names; BadCursor for any other."""
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            day, report_id, fingerprint = text.split("/")
            position = cls(dt.date.fromisoformat(day), uuid.UUID(report_id))
        except ValueError:
            raise BadCursor(
                "not a cursor of this list: pass a next_cursor back as it came"
            ) from None
        if fingerprint != flt.fingerprint():
            raise BadCursor(
                "the cursor belongs to a list of other filters or another order: "
                "send the same filters and sort as for its first page"
            )
        return position


async def page(
    conn: asyncpg.Connection, flt: ReportFilter, after: Position | None, limit: int
) -> list[Report]:
    """A page of the filtered reports in the filter's order, after `after` (keyset)."""
    where, args = flt.where()
    if after is not None:
        args += [after.activity_date, after.report_id]
        beyond = "<" if flt.order == NEWEST_FIRST else ">"
        where += f" AND (activity_date, report_id) {beyond} (${len(args) - 1}, ${len(args)})"
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports WHERE {where} "
        f"ORDER BY {flt.order_by()} LIMIT ${len(args)}",
        *args,
    )
    return [Report.model_validate(dict(r)) for r in rows]


CSV_HEADER = [
    "report_id", "version", "status", "programme", "province_code", "district_code",
    "subdistrict_code", "village_no", "activity_date", "fiscal_year", "quarter", "dimensions",
    "stages", *[f"participants_{s.value}" for s in Sector], "households", "title", "details",
    "received_at", "reported_by_name", "reported_by_position",
]  # fmt: skip


# A spreadsheet evaluates a cell that begins with one of these as a formula (OWASP, "CSV
# injection"). Such a cell is exported behind a single quote, which Excel shows as text; so is
# one that begins with quotes before one of them, so that `csv_text_restored` removes exactly
# the quote that `csv_text` added and a round trip gives back the original text.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def csv_text(value: Any) -> Any:
    """A CSV cell that no spreadsheet evaluates: `'` before text that `_FORMULA` matches."""
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def csv_text_restored(cell: str) -> str:
    """The text `csv_text` was given, from the cell it made (for importing an export)."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell


def _csv_line(row: asyncpg.Record) -> list[Any]:
    return [csv_text(cell) for cell in (
        row["report_id"], row["version"], row["status"], row["programme"], row["province_code"],
        row["district_code"], row["subdistrict_code"] or "", row["village_no"] or "",
        row["activity_date"].isoformat(), row["fiscal_year"], row["quarter"],
        " ".join(row["dimensions"]), " ".join(row["stages"]),
        *[row["participants"][s.value] for s in Sector], row["households"] or "",
        row["title"], row["details"], row["received_at"].isoformat(),
        row["reported_by"]["name"], row["reported_by"]["position"],
    )]  # fmt: skip


class Exports:
    """CSV downloads in progress on this replica, at most `limit`: each holds a database
    connection until it ends, however slowly its client reads. One more is refused at once, 503
    with Retry-After, rather than queued behind downloads that may take minutes: the client
    learns straight away to retry (a load balancer, to try another replica)."""

    RETRY_AFTER = 10  # seconds

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        if self.running >= self.limit:
            raise Problem(
                503, "too_many_exports", limit=self.limit,
                headers={"Retry-After": str(self.RETRY_AFTER)},
            )  # fmt: skip
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1


async def csv_chunks(
    pool: asyncpg.Pool, exports: Exports, flt: ReportFilter, rows_per_chunk: int = 500
) -> AsyncGenerator[bytes, None]:
    """The filtered reports as CSV, streamed with a server-side cursor.

    UTF-8 with a byte-order mark, so Excel opens the Thai text intact. The first chunk (the
    header) comes once an export slot and a connection are taken: await it before answering,
    so that a busy server answers 503 rather than a download cut short. Close the generator
    when the download ends, however it ends, to give both back at once.
    """
    where, args = flt.where()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    with exports.slot():
        async with pool.acquire() as conn, conn.transaction():
            cursor = conn.cursor(
                f"SELECT * FROM reports WHERE {where} ORDER BY {flt.order_by()}",
                *args,
                prefetch=rows_per_chunk,
            )
            yield _taken(buffer)
            count = 0
            async for row in cursor:
                writer.writerow(_csv_line(row))
                count += 1
                if count % rows_per_chunk == 0:
                    yield _taken(buffer)
    yield buffer.getvalue().encode()


def _taken(buffer: io.StringIO) -> bytes:
    """The buffer's text, encoded; the buffer emptied."""
    chunk = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return chunk


# Active reports of a period per district, programme and month of the activity date.
_BY_MONTH = (
    "SELECT district_code, programme, extract(month FROM activity_date)::int AS month, "
    "count(*) AS reports, coalesce(sum(households), 0) AS households, "
    + ", ".join(f"sum((participants->>'{s.value}')::bigint) AS {s.value}" for s in Sector)
    + ", "
    + ", ".join(f"count(*) FILTER (WHERE '{s.value}' = ANY(stages)) AS {s.value}" for s in Stage)
    + " FROM reports WHERE fiscal_year = $1 AND quarter = $2 AND status = 'active' "
    "GROUP BY district_code, programme, month"
)


async def counts(conn: asyncpg.Connection, fiscal_year: int, quarter: int) -> list[dict[str, Any]]:
    """Active reports of a period per district and programme: the ground truth for reconcile.
    Each row counts the reports naming each stage and the reports of each month of the activity
    date (a month with none left out)."""
    sums = [f"sum({s.value})::bigint AS {s.value}" for s in (*Sector, *Stage)]
    rows = await conn.fetch(
        f"WITH by_month AS ({_BY_MONTH}) "
        f"SELECT district_code, programme, sum(reports)::bigint AS reports, "
        f"sum(households)::bigint AS households, {', '.join(sums)}, "
        "jsonb_object_agg(month::text, reports) AS months FROM by_month "
        "GROUP BY district_code, programme ORDER BY district_code, programme",
        fiscal_year, quarter,
    )  # fmt: skip
    return [
        {
            "district_code": r["district_code"],
            "programme": r["programme"],
            "reports": r["reports"],
            "households": r["households"],
            "participants": {s.value: r[s.value] for s in Sector},
            "stages": {s.value: r[s.value] for s in Stage},
            "months": r["months"],
        }
        for r in rows
    ]
