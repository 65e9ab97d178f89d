import asyncio
import datetime as dt
import hashlib
import json

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.utils.factories import report
from warroom_reporting import SCHEMA, store
from warroom_reporting.models import HASH_PREFIX, ReportIn, canonical_json, hash_canonical
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db
from warroom_shared.fiscal import today_bangkok
from warroom_shared.http import Problem


async def _count(database_url: str, sql: str) -> int:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "reporting"})
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_submit_report_answers_receipt_with_derived_period(
    reporting: httpx.AsyncClient,
) -> None:
    body = report(activity_date="2024-10-01")
    r = await reporting.post("/v1/reports", json=body)
    assert r.status_code == 201
    receipt = r.json()
    assert receipt["report_id"] == body["report_id"]
    assert (receipt["fiscal_year"], receipt["quarter"], receipt["version"]) == (2568, 1, 1)
    stored = (await reporting.get(f"/v1/reports/{body['report_id']}")).json()
    assert stored["province_code"] == "12"
    assert stored["participants"]["people"] == 40


async def test_submit_report_again_answers_original_receipt(reporting: httpx.AsyncClient) -> None:
    body = report()
    first = await reporting.post("/v1/reports", json=body)
    again = await reporting.post("/v1/reports", json=body)
    assert again.status_code == 200
    assert again.json() == first.json()
    changed = await reporting.post("/v1/reports", json={**body, "households": 13})
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "report_id_conflict"


def test_new_report_writes_its_content_as_its_json_dump() -> None:
    """The content hash and the first history entry are of the report's `model_dump(mode=
    "json")` written as canonical JSON (a hash stored before must still match a resend); the
    report is written from its own values, which must give the same bytes and row."""
    bodies = [
        report(),
        report(subdistrict_code=None, village_no=None, households=None, title='"ก": ข\\ค\n\t'),
        report(programme="sustainable_village", stages=["benefit", "talk", "think", "act"],
               dimensions=["safety", "housing"], details="๑๒๓ \u2028 😀 </script>"),
    ]  # fmt: skip
    for body in bodies:
        content = ReportIn.model_validate(body)
        dumped = content.model_dump(mode="json")
        new = store.new_report(content, "12", {"traceparent": "t"})
        assert bytes(new.content) == canonical_json(dumped)
        assert new.submitted_hash == hash_canonical(canonical_json(dumped))
        assert new.submitted_hash == content.content_hash()
        assert content.has_hash(new.submitted_hash)
        assert new.row == store.content_row(content, "12", dumped)
        assert new.event[3] == {"traceparent": "t", "Warroom-Report-Id": body["report_id"]}


async def test_submit_report_again_matches_a_hash_stored_in_the_legacy_form(
    reporting: httpx.AsyncClient, database_url: str
) -> None:
    """A report stored while content hashes were of Python's json.dumps (no prefix): sent again
    as it was, it answers its receipt, single or bulk; with other content, a conflict."""
    body = report(title="ประชุม: ซ่อมประปา")
    first = await reporting.post("/v1/reports", json=body)
    assert first.status_code == 201
    dumped = ReportIn.model_validate(body).model_dump(mode="json")
    legacy = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "reporting"})
    try:
        stored = await conn.fetchval(
            "UPDATE reports SET submitted_hash = $2 WHERE report_id = $1 "
            "RETURNING (SELECT submitted_hash FROM reports WHERE report_id = $1)",
            body["report_id"], hashlib.sha256(legacy.encode()).hexdigest(),
        )  # fmt: skip
    finally:
        await conn.close()
    assert stored.startswith(HASH_PREFIX)
    again = await reporting.post("/v1/reports", json=body)
    assert (again.status_code, again.json()) == (200, first.json())
    changed = await reporting.post("/v1/reports", json={**body, "households": 13})
    assert changed.status_code == 409
    lines = b"\n".join(json.dumps(b).encode() for b in (body, {**body, "households": 13}))
    bulk = await reporting.post(
        "/v1/reports:bulk", content=lines, headers={"Content-Type": "application/x-ndjson"}
    )
    assert [res["status"] for res in bulk.json()["results"]] == ["duplicate", "conflict"]


async def test_submit_report_race_creates_one_report_and_one_event(
    reporting: httpx.AsyncClient, database_url: str
) -> None:
    body = report()
    answers = await asyncio.gather(*(reporting.post("/v1/reports", json=body) for _ in range(50)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 49 + [201]
    assert len({a.text for a in answers}) == 1
    assert await _count(database_url, "SELECT count(*) FROM reports") == 1
    events = "SELECT count(*) FROM report_history"
    assert await _count(database_url, events) == 1
    # Events still in the outbox plus those the relay published and removed (one statement: one
    # snapshot, and the relay deletes and counts in one transaction).
    events_ever = "SELECT (SELECT count(*) FROM outbox) + (SELECT events FROM outbox_published)"
    assert await _count(database_url, events_ever) == 1


BAD_FIELDS = [
    ({"surprise": 1}, "surprise"),
    ({"fiscal_year": 2570}, "fiscal_year"),
    ({"programme": "other"}, "programme"),
    ({"district_code": 1201}, "district_code"),
    ({"district_code": "9999"}, "district_code"),
    ({"subdistrict_code": "500101"}, "subdistrict_code"),
    ({"village_no": 0}, "village_no"),
    ({"activity_date": "2016-09-30"}, "activity_date"),
    ({"activity_date": "yesterday"}, "activity_date"),
    ({"dimensions": []}, "dimensions"),
    ({"dimensions": ["water", "water"]}, "dimensions"),
    ({"dimensions": ["space"]}, "dimensions.0"),
    ({"stages": ["dream"]}, "stages.0"),
    ({"stages": []}, "stages"),
    ({"programme": "best_practice"}, "programme"),
    ({"households": -1}, "households"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "ก" * 201}, "title"),
    ({"details": "x" * 10_001}, "details"),
    ({"reported_by": {"name": "x"}}, "reported_by.position"),
    ({"report_id": "not-a-uuid"}, "report_id"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_FIELDS)
async def test_submit_report_bad_field_answers_422(
    reporting: httpx.AsyncClient, database_url: str, overrides: dict[str, object], field: str
) -> None:
    r = await reporting.post("/v1/reports", json=report(**overrides))
    assert r.status_code == 422, r.text
    assert field in [f["field"] for f in r.json()["error"]["fields"]]
    assert await _count(database_url, "SELECT count(*) FROM reports") == 0


@pytest.mark.parametrize("sector", ["media", "people"])
async def test_submit_report_participants_need_every_sector(
    reporting: httpx.AsyncClient, sector: str
) -> None:
    body = report()
    del body["participants"][sector]
    r = await reporting.post("/v1/reports", json=body)
    assert r.status_code == 422
    assert f"participants.{sector}" in [f["field"] for f in r.json()["error"]["fields"]]
    body["participants"][sector] = -3
    r = await reporting.post("/v1/reports", json=body)
    assert f"participants.{sector}" in [f["field"] for f in r.json()["error"]["fields"]]


async def test_submit_report_in_future_answers_422(reporting: httpx.AsyncClient) -> None:
    tomorrow = today_bangkok() + dt.timedelta(days=1)
    r = await reporting.post("/v1/reports", json=report(activity_date=tomorrow.isoformat()))
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["type"] == "date_in_future"
    r = await reporting.post("/v1/reports", json=report(activity_date=today_bangkok().isoformat()))
    assert r.status_code == 201, r.text


async def test_submit_report_bad_bodies(reporting: httpx.AsyncClient, database_url: str) -> None:
    json_type = {"Content-Type": "application/json"}
    assert (
        await reporting.post("/v1/reports", content=b'{"report_id": ', headers=json_type)
    ).status_code == 400
    assert (
        await reporting.post("/v1/reports", content=b"[1, 2]", headers=json_type)
    ).status_code == 422
    big = json.dumps(report(details="ก" * 30_000)).encode()
    assert len(big) > 64 * 1024
    assert (await reporting.post("/v1/reports", content=big, headers=json_type)).status_code == 413
    r = await reporting.post(
        "/v1/reports", content=b"<report/>", headers={"Content-Type": "application/xml"}
    )
    assert r.status_code == 415
    assert await _count(database_url, "SELECT count(*) FROM reports") == 0


async def test_submit_report_without_directory_answers_503(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, database_url: str
) -> None:
    reporting_app.state.directory.ready.clear()
    r = await reporting.post("/v1/reports", json=report())
    assert r.status_code == 503
    assert r.headers["Retry-After"].isdigit()
    assert await _count(database_url, "SELECT count(*) FROM reports") == 0


async def test_submit_report_concurrent_mixed_outcomes_share_batches(
    reporting: httpx.AsyncClient, database_url: str
) -> None:
    """Reports committed together still get their own answers: one 409 spoils nothing else."""
    taken = report()
    assert (await reporting.post("/v1/reports", json=taken)).status_code == 201
    fresh = [report() for _ in range(30)]
    clash = {**taken, "households": 99}
    answers = await asyncio.gather(
        *(reporting.post("/v1/reports", json=b) for b in [*fresh, clash, taken])
    )
    assert [a.status_code for a in answers] == [201] * 30 + [409, 200]
    assert await _count(database_url, "SELECT count(*) FROM reports") == 31


async def test_submit_batch_answers_each_submission_and_stores_each_report_once(
    reporting_settings: ReportingSettings,
) -> None:
    """Group commit's one statement: a resend and a clash inside the batch, and one from before."""
    a, b, earlier = (ReportIn.model_validate(report()) for _ in range(3))
    a_again = ReportIn.model_validate(a.model_dump(mode="json"))
    a_changed = a.model_copy(update={"households": 99})
    earlier_changed = earlier.model_copy(update={"title": "อีกเรื่องหนึ่ง"})
    conn = await db.connect(reporting_settings.database_url, SCHEMA)
    try:
        async with conn.transaction():
            [(first, created)] = await store.submit(conn, [(earlier, "12", "officer", {})])
        assert created
        async with conn.transaction():
            outcomes = await store.submit(conn, [
                (a, "12", "officer", {}), (a_again, "12", "officer", {}),
                (a_changed, "12", "officer", {}), (b, "12", "officer", {}),
                (earlier, "12", "officer", {}), (earlier_changed, "12", "officer", {}),
            ])  # fmt: skip
        reports = await conn.fetchval("SELECT count(*) FROM reports")
        history = await conn.fetch("SELECT report_id, account FROM report_history")
        events = await conn.fetchval("SELECT last_value FROM outbox_id_seq")
        dimensions = await conn.fetchval(
            "SELECT dimensions FROM reports WHERE report_id = $1", a.report_id
        )
    finally:
        await conn.close()

    created_a, again, clash, created_b, resent, clash_earlier = outcomes
    assert isinstance(created_a, tuple)
    assert isinstance(created_b, tuple)
    assert (created_a[1], created_b[1]) == (True, True)
    assert again == (created_a[0], False)
    assert resent == (first, False)
    assert isinstance(clash, Problem)
    assert isinstance(clash_earlier, Problem)
    assert (clash.status, clash_earlier.status) == (409, 409)
    assert (reports, events) == (3, 3)
    assert sorted(str(r["report_id"]) for r in history) == sorted(
        str(r.report_id) for r in (a, b, earlier)
    )
    assert {r["account"] for r in history} == {"officer"}
    assert dimensions == [d.value for d in a.dimensions]


async def test_submit_report_when_database_connections_drop_answers_503_then_recovers(
    reporting: httpx.AsyncClient, database_url: str
) -> None:
    """The database ends the service's connections (a restart, a failover): requests that were
    using them answer 503 with Retry-After, never 500, and the next ones are stored."""
    assert (await reporting.post("/v1/reports", json=report())).status_code == 201
    admin = await asyncpg.connect(database_url)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert ended > 0
    statuses = [(await reporting.post("/v1/reports", json=report())) for _ in range(12)]
    assert {r.status_code for r in statuses} <= {201, 503}, [r.text for r in statuses]
    for refused in (r for r in statuses if r.status_code == 503):
        assert refused.json()["error"]["code"] == "database_unavailable"
        assert refused.headers["Retry-After"] == "1"
    assert statuses[-1].status_code == 201


async def test_submit_report_refused_by_database_fails_only_its_own_request(
    reporting: httpx.AsyncClient, database_url: str
) -> None:
    """A report PostgreSQL refuses (a NUL in its text) among concurrent POSTs that share its
    batch: it alone is refused, 422 with a field message; the others are stored."""
    fresh = [report() for _ in range(30)]
    nul = report(title="ประปา\u0000หมู่บ้าน")
    answers = await asyncio.gather(
        *(reporting.post("/v1/reports", json=b) for b in [*fresh[:15], nul, *fresh[15:]])
    )
    assert [a.status_code for a in answers] == [201] * 15 + [422] + [201] * 15
    refused = answers[15].json()["error"]
    assert refused["code"] == "invalid_fields"
    assert refused["fields"]
    assert await _count(database_url, "SELECT count(*) FROM reports") == 30
