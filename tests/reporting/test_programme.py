"""The programme's model: every report names its stages, only the programme's districts report,
a Sustainable Village report comes from a village designated for its fiscal year, and best
practice is no report programme."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from tests.reporting.conftest import SetEntry
from tests.utils.factories import report
from warroom_reporting.prepare import MIGRATIONS
from warroom_shared import db

NDJSON = {"Content-Type": "application/x-ndjson"}
Designate = Callable[..., Awaitable[None]]
ENGLISH = {"Accept-Language": "en"}


def _content(body: dict[str, object], **changes: object) -> dict[str, object]:
    return {k: v for k, v in {**body, **changes}.items() if k != "report_id"}


async def _bulk(reporting: httpx.AsyncClient, *lines: dict[str, object]) -> dict[str, object]:
    content = "\n".join(json.dumps(line) for line in lines)
    answer = await reporting.post("/v1/reports:bulk", content=content, headers=NDJSON)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


async def test_submit_report_without_stages_answers_422_naming_them(
    reporting: httpx.AsyncClient,
) -> None:
    r = await reporting.post("/v1/reports", json=report(stages=[]))
    english = await reporting.post("/v1/reports", json=report(stages=[]), headers=ENGLISH)

    assert r.status_code == 422
    [error] = r.json()["error"]["fields"]
    assert (error["field"], error["type"]) == ("stages", "stages_empty")
    assert "ขั้นการมีส่วนร่วม" in error["message"]
    assert "benefit (ร่วมรับประโยชน์)" in error["message"]
    [error] = english.json()["error"]["fields"]
    assert "at least one participation stage" in error["message"]
    assert "benefit (ร่วมรับประโยชน์)" in error["message"]


async def test_report_of_a_district_outside_the_programme_answers_422_saying_why(
    reporting: httpx.AsyncClient, directory_entry: SetEntry
) -> None:
    before = report()
    assert (await reporting.post("/v1/reports", json=before)).status_code == 201
    await directory_entry("1201", in_programme=False)

    posted = await reporting.post("/v1/reports", json=report())
    english = await reporting.post("/v1/reports", json=report(), headers=ENGLISH)
    amended = await reporting.put(
        f"/v1/reports/{before['report_id']}", json=_content(before, households=1),
        headers={"If-Match": '"1"'},
    )  # fmt: skip
    bulk = await _bulk(reporting, report(), report(district_code="5001", subdistrict_code=None))

    assert posted.status_code == 422
    problem = posted.json()["error"]
    assert problem["code"] == "outside_programme"
    [field] = problem["fields"]
    assert (field["field"], field["type"]) == ("district_code", "outside_programme")
    assert "อยู่นอกโครงการ" in field["message"]
    assert "is outside the programme" in english.json()["error"]["fields"][0]["message"]
    assert amended.status_code == 422
    assert amended.json()["error"]["code"] == "outside_programme"
    assert (bulk["created"], bulk["refused"]) == (1, 1)
    assert bulk["results"][0]["fields"] == [field]  # type: ignore[index]


async def test_bangkok_khet_are_outside_the_programme_unless_included(
    reporting: httpx.AsyncClient, directory_entry: SetEntry
) -> None:
    khet = {"district_code": "1001", "subdistrict_code": "100101"}  # Phra Nakhon
    await directory_entry("1001", in_programme=False)
    refused = await reporting.post("/v1/reports", json=report(**khet))
    await directory_entry("1001", in_programme=True)  # an operator included Bangkok
    accepted = await reporting.post("/v1/reports", json=report(**khet))

    assert refused.status_code == 422
    assert "เขตของกรุงเทพมหานครไม่มีนายอำเภอ" in refused.json()["error"]["message"]
    assert accepted.status_code == 201


async def test_sustainable_village_report_of_a_designated_village_is_accepted(
    reporting: httpx.AsyncClient, designate: Designate
) -> None:
    await designate("1201", 2568, ("120101", 3), ("120102", 7))
    body = report(programme="sustainable_village", subdistrict_code="120102", village_no=7)

    r = await reporting.post("/v1/reports", json=body)

    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "place",
    [
        {"village_no": 4},  # another village of the subdistrict
        {"subdistrict_code": "120102"},  # village 3 of another subdistrict
        {"activity_date": "2025-10-15"},  # designated for FY 2568, not 2569
    ],
)
async def test_sustainable_village_report_of_a_village_not_designated_answers_422(
    reporting: httpx.AsyncClient, designate: Designate, place: dict[str, object]
) -> None:
    await designate("1201", 2568, ("120101", 3))
    body = report(programme="sustainable_village", subdistrict_code="120101", village_no=3)

    r = await reporting.post("/v1/reports", json={**body, **place})
    english = await reporting.post("/v1/reports", json={**body, **place}, headers=ENGLISH)
    bulk = await _bulk(reporting, {**body, **place, "report_id": str(uuid.uuid4())}, body)

    assert r.status_code == 422
    problem = r.json()["error"]
    assert problem["code"] == "not_designated"
    [field] = problem["fields"]
    assert (field["field"], field["type"]) == ("village_no", "not_designated")
    assert "ไม่ใช่หมู่บ้านยั่งยืน" in field["message"]
    [field] = english.json()["error"]["fields"]
    assert "is not a designated Sustainable Village" in field["message"]
    assert (bulk["created"], bulk["refused"]) == (1, 1)


async def test_sustainable_village_report_names_its_village(
    reporting: httpx.AsyncClient, designate: Designate
) -> None:
    await designate("1201", 2568, ("120101", 3))
    body = report(programme="sustainable_village", subdistrict_code=None, village_no=None)

    r = await reporting.post("/v1/reports", json=body)
    cast = await reporting.post("/v1/reports", json={**body, "programme": "cast"})

    assert r.status_code == 422
    fields = r.json()["error"]["fields"]
    assert [(f["field"], f["type"]) for f in fields] == [
        ("subdistrict_code", "missing"), ("village_no", "missing"),
    ]  # fmt: skip
    assert cast.status_code == 201  # a CAST report may be of the whole district


async def test_migration_removes_best_practice_reports_with_their_history_and_events(
    database_url: str,
) -> None:
    """A database as it was before best practice stopped being a report programme."""
    earlier = [m for m in MIGRATIONS if m.name < "0003"]
    await db.migrate(database_url, "before_0003", earlier)
    conn = await db.connect(database_url, "before_0003")
    try:
        ids = [await _stored_report(conn, p) for p in ("best_practice", "cast", "best_practice")]
        await db.migrate(database_url, "before_0003", MIGRATIONS)
        kept = await conn.fetch("SELECT report_id, programme FROM reports")
        history = await conn.fetchval("SELECT count(*) FROM report_history")
        events = await conn.fetch("SELECT subject FROM outbox")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE reports SET programme = 'best_practice'")
    finally:
        await conn.close()

    assert [(r["report_id"], r["programme"]) for r in kept] == [(ids[1], "cast")]
    assert history == 1
    assert [e["subject"] for e in events] == ["warroom.report.submitted.50.5001"]


async def _stored_report(conn: asyncpg.Connection, programme: str) -> uuid.UUID:
    """A report, its history entry and its event as the service stored them before 0003."""
    report_id = uuid.uuid4()
    content = {"programme": programme, "district_code": "5001"}
    await conn.execute(
        "INSERT INTO reports (report_id, submitted_hash, programme, province_code, district_code,"
        " activity_date, fiscal_year, quarter, dimensions, stages, participants, title, details,"
        " reported_by) VALUES ($1, 'h', $2, '50', '5001', '2025-02-14', 2568, 2, '{water}',"
        " '{talk}', '{}', 't', 'd', '{}')",
        report_id, programme,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO report_history (report_id, version, action, actor, content)"
        " VALUES ($1, 1, 'submitted', '{}', $2)",
        report_id, content,
    )  # fmt: skip
    payload = {"id": str(uuid.uuid4()), "data": {"report_id": str(report_id), **content}}
    await conn.execute(
        "INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3)",
        uuid.UUID(payload["id"]), "warroom.report.submitted.50.5001", json.dumps(payload).encode(),
    )  # fmt: skip
    return report_id
