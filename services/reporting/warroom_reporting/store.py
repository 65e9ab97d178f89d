"""Reports in PostgreSQL. Every change commits with its audit entry and its outbox event."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from warroom_reporting import SOURCE
from warroom_reporting.events import event_headers, figures
from warroom_reporting.models import (
    HistoryEntry,
    Receipt,
    Report,
    ReportContent,
    Reporter,
    ReportIn,
    Retraction,
)
from warroom_shared import outbox
from warroom_shared.events import Envelope, ReportAmended, ReportRetracted, ReportSubmitted
from warroom_shared.fiscal import fiscal_period
from warroom_shared.http import Problem

CONTENT_COLUMNS = (
    "programme", "province_code", "district_code", "subdistrict_code", "village_no",
    "activity_date", "fiscal_year", "quarter", "dimensions", "stages", "participants",
    "households", "title", "details", "reported_by",
)  # fmt: skip
REPORT_COLUMNS = ("report_id", "version", "status", *CONTENT_COLUMNS, "received_at", "updated_at")

SUBMIT_SQL = f"""
WITH r AS (
    INSERT INTO reports (report_id, submitted_hash, {", ".join(CONTENT_COLUMNS)})
    VALUES ($1, $2, {", ".join(f"${i}" for i in range(3, 3 + len(CONTENT_COLUMNS)))})
    ON CONFLICT (report_id) DO NOTHING
    RETURNING report_id, received_at
), h AS (
    INSERT INTO report_history (report_id, version, action, actor, content, at, account)
    SELECT report_id, 1, 'submitted', $18, $19, received_at, $24 FROM r
), o AS (
    INSERT INTO outbox (event_id, subject, payload, headers) SELECT $20, $21, $22, $23 FROM r
)
SELECT received_at FROM r
"""


def content_row(content: ReportContent, province_code: str) -> tuple[Any, ...]:
    """The values of CONTENT_COLUMNS for a report's content."""
    period = fiscal_period(content.activity_date)
    return (
        content.programme.value, province_code, content.district_code, content.subdistrict_code,
        content.village_no, content.activity_date, period.year, period.quarter,
        [d.value for d in content.dimensions], [s.value for s in content.stages],
        content.participants.model_dump(), content.households, content.title, content.details,
        content.reported_by.model_dump(),
    )  # fmt: skip


def submitted_envelope(report: ReportIn, province_code: str) -> Envelope:
    event = ReportSubmitted(
        province_code=province_code,
        district_code=report.district_code,
        report_id=report.report_id,
        version=1,
        figures=figures(report, province_code),
    )
    return Envelope.wrap(event, SOURCE)


async def submit(
    conn: asyncpg.Connection, report: ReportIn, province_code: str, account: str,
    trace: dict[str, str] | None = None,
) -> tuple[Receipt, bool]:  # fmt: skip
    """Store a new report with its event; a resend answers the original receipt (created=False).
    `account` is who sent it, as authenticated (a token's subject), for the audit trail; `trace`
    the request's trace headers when not called in its context (group commit)."""
    headers = {**(trace or {}), **event_headers(report.report_id)}
    envelope = submitted_envelope(report, province_code)
    content = report.model_dump(mode="json")
    received_at = await conn.fetchval(
        SUBMIT_SQL,
        report.report_id, report.content_hash(), *content_row(report, province_code),
        report.reported_by.model_dump(), content,
        *outbox.outbox_record(envelope, headers), account,
    )  # fmt: skip
    if received_at is not None:
        return receipt(report, received_at), True
    return await existing_receipt(conn, report), False


def receipt(report: ReportIn, received_at: Any) -> Receipt:
    period = fiscal_period(report.activity_date)
    return Receipt(
        report_id=report.report_id, version=1, fiscal_year=period.year, quarter=period.quarter,
        received_at=received_at,
    )  # fmt: skip


async def existing_receipt(conn: asyncpg.Connection, report: ReportIn) -> Receipt:
    row = await conn.fetchrow(
        "SELECT submitted_hash, received_at FROM reports WHERE report_id = $1", report.report_id
    )
    assert row is not None
    if row["submitted_hash"] != report.content_hash():
        raise Problem(
            409, "report_id_conflict",
            f"Report {report.report_id} was already submitted with different content.",
        )  # fmt: skip
    return receipt(report, row["received_at"])


async def get(conn: asyncpg.Connection, report_id: uuid.UUID) -> Report | None:
    row = await conn.fetchrow(
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports WHERE report_id = $1", report_id
    )
    return None if row is None else Report.model_validate(dict(row))


async def _locked(conn: asyncpg.Connection, report_id: uuid.UUID, version: int | None) -> Report:
    row = await conn.fetchrow(
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports WHERE report_id = $1 FOR UPDATE",
        report_id,
    )
    if row is None:
        raise Problem(404, "report_not_found", f"No report {report_id}.")
    current = Report.model_validate(dict(row))
    if current.status == "retracted":
        raise Problem(409, "report_retracted", "The report was retracted; it cannot change.")
    if version is not None and version != current.version:
        raise Problem(
            412, "stale_version",
            f"The report changed since you read it (now version {current.version}).",
            headers={"ETag": etag(current.version)},
        )  # fmt: skip
    return current


def _changes(old: Report, new: ReportContent) -> dict[str, dict[str, Any]]:
    before = old.model_dump(mode="json", include=set(ReportContent.model_fields))
    after = new.model_dump(mode="json")
    return {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}


async def amend(
    conn: asyncpg.Connection, report_id: uuid.UUID, version: int, content: ReportContent,
    province_code: str, account: str,
) -> Report:  # fmt: skip
    async with conn.transaction():
        old = await _locked(conn, report_id, version)
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(CONTENT_COLUMNS, start=2))
        await conn.execute(
            f"UPDATE reports SET {sets}, version = version + 1, updated_at = now() "
            "WHERE report_id = $1",
            report_id, *content_row(content, province_code),
        )  # fmt: skip
        changes = _changes(old, content)
        await _audit(conn, old, "amended", (content.reported_by, account), changes, content)
        event = ReportAmended(
            province_code=province_code, district_code=content.district_code,
            report_id=report_id, version=old.version + 1,
            old=figures(old, old.province_code), new=figures(content, province_code),
        )  # fmt: skip
        await outbox.enqueue(conn, event, SOURCE, event_headers(report_id))
        new = await get(conn, report_id)
    assert new is not None
    return new


async def retract(
    conn: asyncpg.Connection, report_id: uuid.UUID, version: int | None, body: Retraction,
    account: str,
) -> Report:  # fmt: skip
    async with conn.transaction():
        old = await _locked(conn, report_id, version)
        await conn.execute(
            "UPDATE reports SET status = 'retracted', version = version + 1, updated_at = now() "
            "WHERE report_id = $1",
            report_id,
        )
        changes = {"status": {"from": "active", "to": "retracted"}}
        who = (body.retracted_by, account)
        await _audit(conn, old, "retracted", who, changes, old, body.reason)
        event = ReportRetracted(
            province_code=old.province_code, district_code=old.district_code,
            report_id=report_id, version=old.version + 1,
            old=figures(old, old.province_code), reason=body.reason,
        )  # fmt: skip
        await outbox.enqueue(conn, event, SOURCE, event_headers(report_id))
        new = await get(conn, report_id)
    assert new is not None
    return new


async def _audit(
    conn: asyncpg.Connection, old: Report, action: str, who: tuple[Reporter, str],
    changes: dict[str, Any], content: ReportContent, reason: str | None = None,
) -> None:  # fmt: skip
    """A history entry: the person named in the request and the account that sent it."""
    actor, account = who
    await conn.execute(
        "INSERT INTO report_history "
        "(report_id, version, action, actor, changes, content, reason, account) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        old.report_id, old.version + 1, action, actor.model_dump(), changes,
        content.model_dump(mode="json", include=set(ReportContent.model_fields)), reason, account,
    )  # fmt: skip


async def history(conn: asyncpg.Connection, report_id: uuid.UUID) -> list[HistoryEntry]:
    rows = await conn.fetch(
        "SELECT version, action, actor, account, at, reason, changes FROM report_history "
        "WHERE report_id = $1 ORDER BY version",
        report_id,
    )
    return [HistoryEntry.model_validate(dict(r)) for r in rows]


def etag(version: int) -> str:
    return f'"{version}"'
