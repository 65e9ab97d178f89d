"""Read side of the reporting service: filtered lists (cursor pages), CSV export, counts."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from warroom_reporting.models import Report
from warroom_reporting.store import REPORT_COLUMNS
from warroom_shared.domain import Sector


@dataclass(frozen=True)
class ReportFilter:
    district: str | None = None
    province: str | None = None
    fiscal_year: int | None = None
    quarter: int | None = None
    programme: str | None = None

    def where(self, first_arg: int = 1) -> tuple[str, list[Any]]:
        columns = {
            "district_code": self.district, "province_code": self.province,
            "fiscal_year": self.fiscal_year, "quarter": self.quarter, "programme": self.programme,
        }  # fmt: skip
        clauses, args = ["true"], []
        for column, value in columns.items():
            if value is not None:
                args.append(value)
                clauses.append(f"{column} = ${first_arg + len(args) - 1}")
        return " AND ".join(clauses), args


async def page(
    conn: asyncpg.Connection, flt: ReportFilter, after: uuid.UUID | None, limit: int
) -> list[Report]:
    where, args = flt.where()
    if after is not None:
        args.append(after)
        where += f" AND report_id > ${len(args)}"
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports WHERE {where} "
        f"ORDER BY report_id LIMIT ${len(args)}",
        *args,
    )
    return [Report.model_validate(dict(r)) for r in rows]


CSV_HEADER = [
    "report_id", "version", "status", "programme", "province_code", "district_code",
    "subdistrict_code", "village_no", "activity_date", "fiscal_year", "quarter", "dimensions",
    "stages", *[f"participants_{s.value}" for s in Sector], "households", "title", "details",
    "received_at",
]  # fmt: skip


def _csv_line(row: asyncpg.Record) -> list[Any]:
    return [
        row["report_id"], row["version"], row["status"], row["programme"], row["province_code"],
        row["district_code"], row["subdistrict_code"] or "", row["village_no"] or "",
        row["activity_date"].isoformat(), row["fiscal_year"], row["quarter"],
        " ".join(row["dimensions"]), " ".join(row["stages"]),
        *[row["participants"][s.value] for s in Sector], row["households"] or "",
        row["title"], row["details"], row["received_at"].isoformat(),
    ]  # fmt: skip


async def csv_chunks(
    pool: asyncpg.Pool, flt: ReportFilter, rows_per_chunk: int = 500
) -> AsyncIterator[bytes]:
    """The filtered reports as CSV, streamed with a server-side cursor.

    UTF-8 with a byte-order mark, so Excel opens the Thai text intact.
    """
    where, args = flt.where()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    async with pool.acquire() as conn, conn.transaction():
        cursor = conn.cursor(
            f"SELECT * FROM reports WHERE {where} ORDER BY report_id",
            *args,
            prefetch=rows_per_chunk,
        )
        count = 0
        async for row in cursor:
            writer.writerow(_csv_line(row))
            count += 1
            if count % rows_per_chunk == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode()


async def counts(conn: asyncpg.Connection, fiscal_year: int, quarter: int) -> list[dict[str, Any]]:
    """Active reports of a period per district and programme: the ground truth for reconcile."""
    sums = ", ".join(
        f"sum((participants->>'{s.value}')::bigint)::bigint AS {s.value}" for s in Sector
    )
    rows = await conn.fetch(
        f"SELECT district_code, programme, count(*) AS reports, "
        f"coalesce(sum(households), 0)::bigint AS households, {sums} FROM reports "
        "WHERE fiscal_year = $1 AND quarter = $2 AND status = 'active' "
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
        }
        for r in rows
    ]
