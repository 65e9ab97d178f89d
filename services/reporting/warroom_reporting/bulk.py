"""Bulk submission: NDJSON in, one answer per line. One bad line never sinks the others.

Valid lines are stored with COPY in one transaction; their events go to the outbox with them.
When the database refuses a line's values, only that line is refused (`_settled`). The request
takes a database connection only once its body is read and its lines prepared, so that slow
uploads never hold one.
Validating and preparing 10,000 lines takes the better part of a second of CPU: it is done a
slice at a time, handing the event loop back between slices, so that the replica's other
requests and its outbox relay are not held up behind an import.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from pydantic import TypeAdapter, ValidationError

from warroom_reporting import store as reports
from warroom_reporting.models import ReportIn
from warroom_reporting.store import CONTENT_COLUMNS, RECEIVED_COLUMNS, new_report
from warroom_reporting.validation import place_errors
from warroom_shared import outbox, tracing
from warroom_shared.directory import DistrictDirectory
from warroom_shared.http import Problem, field_errors
from warroom_shared.i18n import Message
from warroom_shared.jsonbody import loads
from warroom_shared.security.principal import Principal

MAX_LINES = 10_000
MAX_BYTES = 10 * 1024 * 1024
Status = Literal["created", "duplicate", "conflict", "refused"]
_adapter = TypeAdapter(ReportIn)
SLICE = 250  # lines validated or prepared between two turns of the event loop (about 7 ms)
OUTSIDE_AREA = {
    "field": "district_code",
    "message": Message("outside_your_area"),
    "type": "outside_area",
}


@dataclass
class LineResult:
    line: int
    status: Status
    report_id: uuid.UUID | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "status": self.status}
        if self.report_id is not None:
            out["report_id"] = str(self.report_id)
        if self.fields:
            out["fields"] = self.fields
        return out


async def parse(
    lines: list[bytes], directory: DistrictDirectory, principal: Principal
) -> tuple[list[LineResult], dict[int, ReportIn]]:
    """Validate every non-empty line; returns refusals and the valid reports by line number.
    A line of a district outside the caller's area is refused like any other bad line."""
    refused: list[LineResult] = []
    valid: dict[int, ReportIn] = {}
    for number, raw in enumerate(lines, start=1):
        if number % SLICE == 0:
            await asyncio.sleep(0)
        if not raw.strip():
            continue
        try:
            report = _validated(raw)
        except json.JSONDecodeError as exc:
            refused.append(LineResult(number, "refused", fields=[_malformed(exc)]))
            continue
        except ValidationError as exc:
            refused.append(LineResult(number, "refused", fields=field_errors(list(exc.errors()))))
            continue
        errors = place_errors(directory, report)
        if not errors and not principal.covers_district(report.district_code):
            errors = [OUTSIDE_AREA]
        if errors:
            refused.append(LineResult(number, "refused", report.report_id, errors))
        else:
            valid[number] = report
    return refused, valid


def _validated(raw: bytes) -> ReportIn:
    """A line's report. A line that is not JSON, or whose object names a key twice, raises
    `json.JSONDecodeError` as `loads` reads any other body (pydantic would keep the last value);
    a line that is JSON but not a report, `ValidationError`.

    Each key of a JSON object is followed by a colon, so a valid line with no more colons than
    the keys its report was given names none twice: only a line with more (a colon in its text,
    or a key named twice) is parsed again to tell, which spares the second parse of nearly all.
    (What `loads` refuses besides, pydantic's parser refuses too: bytes that are not UTF-8,
    control characters in a string, anything after the object.)"""
    try:
        report = _adapter.validate_json(raw)
    except ValidationError:
        loads(raw)
        raise
    if raw.count(b":") > report.keys_given():
        loads(raw)
    return report


def _malformed(exc: json.JSONDecodeError) -> dict[str, Any]:
    message = Message("malformed_line", reason=exc.msg)
    return {"field": "body", "message": message, "type": "json_invalid"}


# a valid line: its number, its report, and what storing it writes
Line = tuple[int, ReportIn, reports.NewReport]


async def store(
    pool: asyncpg.Pool, valid: dict[int, ReportIn], directory: DistrictDirectory, account: str
) -> list[LineResult]:
    """Store the valid lines; each is answered as a single submission would be
    (`reports.answers`): created, a duplicate, or a conflict; a line whose values the database
    refuses is refused on its own. A connection is taken only once the lines are prepared."""
    trace = tracing.propagation_headers()
    lines: list[Line] = []
    for number, report in valid.items():
        if len(lines) % SLICE == SLICE - 1:
            await asyncio.sleep(0)
        lines.append((number, report, new_report(report, _province(directory, report), trace)))
    async with pool.acquire() as conn:
        return await _settled(conn, lines, account)


async def _settled(conn: asyncpg.Connection, lines: list[Line], account: str) -> list[LineResult]:
    """The lines in one transaction; when the database refuses it, each half in its own, down
    to the lines it refuses (a bad line among 10,000 costs about 14 transactions more)."""
    try:
        return await _stored(conn, lines, account)
    except reports.UNSTORABLE as exc:
        if len(lines) == 1:
            number, report, _ = lines[0]
            refusal = [reports.unstorable_field(exc)]
            return [LineResult(number, "refused", report.report_id, refusal)]
    half = len(lines) // 2
    first = await _settled(conn, lines[:half], account)
    return first + await _settled(conn, lines[half:], account)


async def _stored(conn: asyncpg.Connection, lines: list[Line], account: str) -> list[LineResult]:
    new: dict[uuid.UUID, reports.NewReport] = {}
    for _, report, prepared in lines:
        new.setdefault(report.report_id, prepared)
    async with conn.transaction():
        created = await _insert(conn, new, account)
        outcomes = await reports.answers(conn, [report for _, report, _ in lines], created)
    results = []
    for (number, report, _), outcome in zip(lines, outcomes, strict=True):
        status: Status = "conflict" if isinstance(outcome, Problem) else (
            "created" if outcome[1] else "duplicate"
        )  # fmt: skip
        results.append(LineResult(number, status, report.report_id))
    return results


def _province(directory: DistrictDirectory, report: ReportIn) -> str:
    district = directory.get(report.district_code)
    assert district is not None  # checked by parse()
    return district.province_code


async def _insert(
    conn: asyncpg.Connection, new: dict[uuid.UUID, reports.NewReport], account: str
) -> dict[uuid.UUID, Any]:
    """COPY the new reports in; returns those stored (not there already) with `received_at`."""
    columns = ["report_id", "submitted_hash", *CONTENT_COLUMNS, *RECEIVED_COLUMNS]
    await conn.execute(
        f"CREATE TEMP TABLE bulk_reports ON COMMIT DROP AS "
        f"SELECT {', '.join(columns)} FROM reports WITH NO DATA"
    )
    records = [(rid, n.submitted_hash, *n.row, *n.received()) for rid, n in new.items()]
    await conn.copy_records_to_table("bulk_reports", columns=columns, records=records)
    rows = await conn.fetch(
        f"INSERT INTO reports ({', '.join(columns)}) SELECT {', '.join(columns)} FROM bulk_reports "
        # sorted, as group commit: two imports holding the same ids wait, never deadlock
        "ORDER BY report_id ON CONFLICT (report_id) DO NOTHING RETURNING report_id, received_at"
    )
    created: dict[uuid.UUID, Any] = {r["report_id"]: r["received_at"] for r in rows}
    await conn.copy_records_to_table(
        "report_history",
        columns=["report_id", "version", "action", "actor", "content", "at", "account"],
        records=[
            (rid, 1, "submitted", new[rid].reported_by, new[rid].content, at, account)
            for rid, at in created.items()
        ],
    )  # fmt: skip
    await outbox.enqueue_many(conn, [new[rid].event for rid in created])
    return created
