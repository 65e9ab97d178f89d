"""Reports in PostgreSQL. Every change commits with its audit entry and its outbox event."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import asyncpg
import msgspec

from warroom_reporting import SOURCE
from warroom_reporting.events import event_headers, figures, received_day
from warroom_reporting.models import (
    HistoryEntry,
    Receipt,
    Report,
    ReportContent,
    Reporter,
    ReportIn,
    Retraction,
    canonical_json,
    hash_canonical,
)
from warroom_shared import outbox
from warroom_shared.events import (
    ReportAmended,
    ReportRetracted,
    ReportSubmitted,
    encoded_envelope,
)
from warroom_shared.fiscal import fiscal_period
from warroom_shared.http import Problem
from warroom_shared.i18n import Message

CONTENT_COLUMNS = (
    "programme", "province_code", "district_code", "subdistrict_code", "village_no",
    "activity_date", "fiscal_year", "quarter", "dimensions", "stages", "participants",
    "households", "title", "details", "reported_by",
)  # fmt: skip
REPORT_COLUMNS = ("report_id", "version", "status", *CONTENT_COLUMNS, "received_at", "updated_at")

# A new report's columns besides its content: when it was received, as its event says (each set
# when the report is prepared, so that the day in its event is the day stored).
RECEIVED_COLUMNS = ("received_at", "updated_at")

# One statement submits a whole batch: reports, their first history entries and their events.
# The two list columns travel as comma-joined text (unnest would flatten arrays of arrays);
# their values are enum codes, which hold no commas.
_SUBMIT_TYPES = {
    "report_id": "uuid", "submitted_hash": "text", "programme": "text", "province_code": "text",
    "district_code": "text", "subdistrict_code": "text", "village_no": "smallint",
    "activity_date": "date", "fiscal_year": "int", "quarter": "smallint", "dimensions": "text",
    "stages": "text", "participants": "jsonb", "households": "int", "title": "text",
    "details": "text", "reported_by": "jsonb", "received_at": "timestamptz",
    "updated_at": "timestamptz", "content": "jsonb", "account": "text",
    "event_id": "uuid", "subject": "text", "payload": "bytea", "headers": "jsonb",
}  # fmt: skip
_LISTS = ("dimensions", "stages")
_LIST_POSITIONS = frozenset(CONTENT_COLUMNS.index(c) for c in _LISTS)
_ARRAYS = ", ".join(f"${i}::{t}[]" for i, t in enumerate(_SUBMIT_TYPES.values(), start=1))
SUBMIT_SQL = f"""
WITH new AS (
    SELECT * FROM unnest({_ARRAYS}) AS u({", ".join(_SUBMIT_TYPES)})
), r AS (
    -- sorted: two batches holding the same new ids wait for each other, never deadlock
    INSERT INTO reports (report_id, submitted_hash, {", ".join(CONTENT_COLUMNS + RECEIVED_COLUMNS)})
    SELECT report_id, submitted_hash, {
    ", ".join(f"string_to_array({c}, ',')" if c in _LISTS else c for c in CONTENT_COLUMNS)
}, {", ".join(RECEIVED_COLUMNS)}
    FROM new ORDER BY report_id
    ON CONFLICT (report_id) DO NOTHING
    RETURNING report_id, received_at
), h AS (
    INSERT INTO report_history (report_id, version, action, actor, content, at, account)
    SELECT r.report_id, 1, 'submitted', new.reported_by, new.content, r.received_at, new.account
    FROM r JOIN new USING (report_id)
), o AS (
    INSERT INTO outbox (event_id, subject, payload, headers)
    SELECT new.event_id, new.subject, new.payload, new.headers FROM r JOIN new USING (report_id)
)
SELECT report_id, received_at FROM r
"""
# report, province, account, trace: the request's trace headers, for its event (group commit
# runs outside the request's context)
Submission = tuple[ReportIn, str, str, dict[str, str]]

# A report's own values refused (text PostgreSQL cannot hold, such as NUL; a number out of a
# column's range): by the database (class 22, DataError), or while encoding them, by asyncpg
# (the same DataError for a query argument; its codec's own ValueError or OverflowError in a
# COPY) or by Python (UnicodeEncodeError). The report's fault, not the service's: 422.
UNSTORABLE: tuple[type[Exception], ...] = (asyncpg.DataError, ValueError, OverflowError)


def content_row(
    content: ReportContent, province_code: str, dumped: Mapping[str, Any] | None = None
) -> tuple[Any, ...]:
    """The values of CONTENT_COLUMNS for a report's content (`dumped`: its `json_values()` or
    `model_dump(mode="json")`, when the caller has it already; an enum member is a `str` of its
    value, as asyncpg writes it)."""
    period = fiscal_period(content.activity_date)
    plain = dumped if dumped is not None else content.model_dump(mode="json")
    return (
        content.programme.value, province_code, content.district_code, content.subdistrict_code,
        content.village_no, content.activity_date, period.year, period.quarter,
        plain["dimensions"], plain["stages"], plain["participants"], content.households,
        content.title, content.details, plain["reported_by"],
    )  # fmt: skip


class NewReport(NamedTuple):
    """What storing a new report writes, worked out once: its row (CONTENT_COLUMNS), when it
    was received, its content as its first history entry keeps it (the JSON its hash is of),
    and its outbox event."""

    report_id: uuid.UUID
    submitted_hash: str
    row: tuple[Any, ...]
    received_at: dt.datetime
    content: msgspec.Raw
    event: tuple[object, ...]

    def received(self) -> tuple[dt.datetime, dt.datetime]:
        """The values of RECEIVED_COLUMNS."""
        return self.received_at, self.received_at

    @property
    def reported_by(self) -> Any:
        return self.row[_REPORTED_BY]


_REPORTED_BY = CONTENT_COLUMNS.index("reported_by")


def new_report(report: ReportIn, province_code: str, trace: Mapping[str, str]) -> NewReport:
    """`trace`: the trace headers of the request that sent it, for its event."""
    values = report.json_values()
    canonical = canonical_json(values)
    received_at = dt.datetime.now(tz=dt.UTC)
    headers = {**trace, **event_headers(_id_text(report.report_id))}
    event = submitted_event(report, province_code, received_at, headers)
    row = content_row(report, province_code, values)
    return NewReport(
        report.report_id, hash_canonical(canonical), row, received_at, msgspec.Raw(canonical), event
    )  # fmt: skip


# str(an id), written by msgspec's C (UUID.__str__ formats it in Python, 6 times the cost)
_id_text: Callable[[uuid.UUID], str] = msgspec.to_builtins


class Prepared(NamedTuple):
    """A submission with what storing it writes worked out (`prepare`)."""

    report: ReportIn
    new: NewReport
    account: str


def prepare(submission: Submission) -> Prepared:
    """Work out a submission's row, history content and event; 422 when its values cannot be
    stored, so that it is refused on its own before it joins a batch."""
    report, province, account, trace = submission
    try:
        return Prepared(report, new_report(report, province, trace), account)
    except UNSTORABLE as exc:
        raise unstorable(exc) from None


def unstorable(exc: Exception) -> Problem:
    """The answer to a report whose values the database refused (`UNSTORABLE`)."""
    return Problem(422, "invalid_fields", Message("unstorable"), fields=[unstorable_field(exc)])


def unstorable_field(exc: Exception) -> dict[str, Any]:
    return {
        "field": "body",
        "message": Message("unstorable_value", reason=exc),
        "type": "unstorable",
    }


def submitted_event(
    report: ReportIn, province_code: str, received_at: dt.datetime, headers: dict[str, str]
) -> tuple[object, ...]:
    """The outbox row (`outbox.enqueue_many`) of a new report's `ReportSubmitted`, at the time
    it was received."""
    event_id, subject, payload = _submitted(
        report, province_code, received_day(received_at), received_at
    )
    return event_id, subject, payload, headers


def _submitted(
    report: ReportIn, province_code: str, received_on: dt.date, time: dt.datetime
) -> tuple[uuid.UUID, str, bytes]:
    """Written straight from the validated report (`encoded_envelope`): building the event's
    models took a third of the time a bulk line took."""
    data: dict[str, object] = {
        "province_code": province_code,
        "district_code": report.district_code,
        "report_id": report.report_id,
        "version": 1,
        "figures": figures(report, province_code, received_on),
    }
    return encoded_envelope(ReportSubmitted, data, SOURCE, time)


async def submit(
    conn: asyncpg.Connection, submissions: Sequence[Submission]
) -> list[tuple[Receipt, bool] | Problem]:
    """`submit_prepared` for submissions not yet prepared."""
    return await submit_prepared(conn, [prepare(s) for s in submissions])


async def submit_prepared(
    conn: asyncpg.Connection, submissions: Sequence[Prepared]
) -> list[tuple[Receipt, bool] | Problem]:
    """Store new reports with their events, in one statement; for each submission its receipt
    and whether it was created, or a 409 when its id was already taken by other content.

    A submission's `account` is who sent it, as authenticated (a token's subject), for the
    audit trail. A resend, in this batch or before it, answers the original receipt. One
    statement: when the database refuses any report of it, none is stored."""
    first: dict[uuid.UUID, Prepared] = {}
    for submission in submissions:
        first.setdefault(submission.report.report_id, submission)
    rows = [_submit_row(s.new, s.account) for s in first.values()]
    created = {
        r["report_id"]: r["received_at"]
        for r in await conn.fetch(SUBMIT_SQL, *zip(*rows, strict=True))
    }
    reports = [s.report for s in submissions]
    return [
        outcome if isinstance(outcome, Problem) else (receipt(report, outcome[0]), outcome[1])
        for report, outcome in zip(reports, await answers(conn, reports, created), strict=True)
    ]


async def answers(
    conn: asyncpg.Connection, reports: Sequence[ReportIn], created: Mapping[uuid.UUID, Any]
) -> list[tuple[Any, bool] | Problem]:
    """What each of a batch's submissions is answered once the batch is stored: `created` holds
    the ids it stored (each by the first submission naming it), with their `received_at`. Each
    gets its report's `received_at` and whether it created it: a resend, in the batch or before
    it, is the original report; other content under a taken id, a 409."""
    first: dict[uuid.UUID, ReportIn] = {}
    for report in reports:
        first.setdefault(report.report_id, report)
    taken = [rid for rid in first if rid not in created]
    earlier = {
        r["report_id"]: r
        for r in await conn.fetch(
            "SELECT report_id, submitted_hash, received_at FROM reports "
            "WHERE report_id = ANY($1::uuid[])",
            taken,
        )
    } if taken else {}  # fmt: skip
    outcomes: list[tuple[Any, bool] | Problem] = []
    for report in reports:
        rid = report.report_id
        if rid in created and first[rid] is report:
            outcomes.append((created[rid], True))
            continue
        original = earlier.get(rid)
        stored = original["submitted_hash"] if original else first[rid].content_hash()
        if not report.has_hash(stored):
            outcomes.append(Problem(409, "report_id_conflict", report_id=rid))
        else:
            outcomes.append((original["received_at"] if original else created[rid], False))
    return outcomes


def _submit_row(new: NewReport, account: str) -> tuple[Any, ...]:
    """The values of `_SUBMIT_TYPES` for one new report."""
    row = (",".join(v) if i in _LIST_POSITIONS else v for i, v in enumerate(new.row))
    return (
        new.report_id, new.submitted_hash, *row, *new.received(), new.content, account, *new.event
    )  # fmt: skip


def receipt(report: ReportIn, received_at: Any) -> Receipt:
    period = fiscal_period(report.activity_date)
    return Receipt(
        report_id=report.report_id, version=1, fiscal_year=period.year, quarter=period.quarter,
        received_at=received_at,
    )  # fmt: skip


async def get(conn: asyncpg.Connection, report_id: uuid.UUID) -> Report | None:
    row = await conn.fetchrow(
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports WHERE report_id = $1", report_id
    )
    return None if row is None else Report.model_validate(dict(row))


async def _locked(conn: asyncpg.Connection, report_id: uuid.UUID) -> Report:
    """The report, locked until the transaction ends; 404 without it, 409 once retracted."""
    row = await conn.fetchrow(
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports WHERE report_id = $1 FOR UPDATE",
        report_id,
    )
    if row is None:
        raise Problem(404, "report_not_found", report_id=report_id)
    current = Report.model_validate(dict(row))
    if current.status == "retracted":
        raise Problem(409, "report_retracted")
    return current


def _require_version(current: Report, version: int | None) -> None:
    """412 when the caller's If-Match (`version`) is not the report's version now."""
    if version is not None and version != current.version:
        raise Problem(
            412, "stale_version", version=current.version, headers={"ETag": etag(current.version)}
        )


def _changes(old: Report, new: ReportContent) -> dict[str, dict[str, Any]]:
    before = old.model_dump(mode="json", include=set(ReportContent.model_fields))
    after = new.model_dump(mode="json")
    return {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}


async def amend(
    conn: asyncpg.Connection, report_id: uuid.UUID, version: int, content: ReportContent,
    province_code: str, account: str,
) -> Report:  # fmt: skip
    """A new version with `content`, its history entry and its event; or, when `content` is the
    report's as it stands, the report unchanged (no version, entry or event), whatever version
    If-Match named: the change asked for is already made (RFC 9110, 13.1.1), as when a client
    sends an amendment again after losing the answer to the first."""
    async with conn.transaction():
        old = await _locked(conn, report_id)
        changes = _changes(old, content)
        if not changes:
            return old
        _require_version(old, version)
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(CONTENT_COLUMNS, start=2))
        await conn.execute(
            f"UPDATE reports SET {sets}, version = version + 1, updated_at = now() "
            "WHERE report_id = $1",
            report_id, *content_row(content, province_code),
        )  # fmt: skip
        await _audit(conn, old, "amended", (content.reported_by, account), changes, content)
        received_on = received_day(old.received_at)
        event = ReportAmended(
            province_code=province_code, district_code=content.district_code,
            report_id=report_id, version=old.version + 1,
            old=figures(old, old.province_code, received_on),
            new=figures(content, province_code, received_on),
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
        old = await _locked(conn, report_id)
        _require_version(old, version)
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
            old=figures(old, old.province_code, received_day(old.received_at)),
            reason=body.reason,
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
