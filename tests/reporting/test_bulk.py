import asyncio
import json
from collections.abc import AsyncIterator

import asyncpg
import httpx
from fastapi import FastAPI

from tests.utils.apps import serve
from tests.utils.auth import bearer
from tests.utils.factories import report
from tests.utils.processes import service_env
from warroom_cli.embedded import serving
from warroom_reporting import SCHEMA, bulk
from warroom_reporting.app import create_app
from warroom_reporting.models import ReportIn
from warroom_reporting.settings import ReportingSettings

NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(*bodies: object) -> bytes:
    return b"\n".join(
        b if isinstance(b, bytes) else json.dumps(b, ensure_ascii=False).encode() for b in bodies
    )


async def test_bulk_answers_each_line(reporting: httpx.AsyncClient) -> None:
    good, other = report(), report(district_code="5025", subdistrict_code=None)
    body = ndjson(
        good, b"{broken", report(households=-5), b"", other, good, {**good, "households": 1}
    )
    r = await reporting.post("/v1/reports:bulk", content=body, headers=NDJSON)
    assert r.status_code == 200
    answer = r.json()
    assert (answer["created"], answer["duplicate"], answer["conflict"], answer["refused"]) == (
        2,
        1,
        1,
        2,
    )
    statuses = {res["line"]: res["status"] for res in answer["results"]}
    assert statuses == {
        1: "created",
        2: "refused",
        3: "refused",
        5: "created",
        6: "duplicate",
        7: "conflict",
    }
    refusal = next(res for res in answer["results"] if res["line"] == 3)
    assert refusal["fields"][0]["field"] == "households"
    broken = next(res for res in answer["results"] if res["line"] == 2)
    assert broken["fields"][0]["type"] == "json_invalid"
    stored = (await reporting.get(f"/v1/reports/{other['report_id']}")).json()
    assert stored["province_code"] == "50"


async def test_bulk_rerun_creates_no_duplicates(reporting: httpx.AsyncClient) -> None:
    bodies = [report() for _ in range(50)]
    first = (
        await reporting.post("/v1/reports:bulk", content=ndjson(*bodies), headers=NDJSON)
    ).json()
    again = (
        await reporting.post("/v1/reports:bulk", content=ndjson(*bodies), headers=NDJSON)
    ).json()
    assert first["created"] == 50
    assert (again["created"], again["duplicate"]) == (0, 50)
    single = await reporting.post("/v1/reports", json=bodies[0])
    assert single.status_code == 200


async def test_bulk_limits(reporting: httpx.AsyncClient) -> None:
    too_many = b"\n".join([b"{}"] * 10_001)
    assert (
        await reporting.post("/v1/reports:bulk", content=too_many, headers=NDJSON)
    ).status_code == 413
    r = await reporting.post(
        "/v1/reports:bulk", content=ndjson(report()), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 415
    unknown = await reporting.post(
        "/v1/reports:bulk", content=ndjson(report(district_code="9999")), headers=NDJSON
    )
    assert unknown.json()["results"][0]["fields"][0]["field"] == "district_code"


async def test_replicas_importing_the_same_reports_at_once_store_each_once(
    reporting_settings: ReportingSettings,
) -> None:
    """Two replicas import overlapping files at the same moment, in opposite orders: each
    report is created by one of them and is a duplicate in the other; no request fails (on a
    deadlock, say)."""
    bodies = [report() for _ in range(5000)]
    env = service_env(reporting_settings.database_url, reporting_settings.nats_url)
    factory = "warroom_reporting.app:create_app"
    with serving(factory, env) as one, serving(factory, env) as two:
        async with httpx.AsyncClient(headers=bearer(), timeout=60) as client:
            for url in (one, two):
                while (await client.post(f"{url}/v1/reports", json={})).status_code == 503:
                    await asyncio.sleep(0.1)  # the directory is still loading
            answers = await asyncio.gather(*(
                client.post(f"{url}/v1/reports:bulk", content=ndjson(*order), headers=NDJSON)
                for url, order in ((one, bodies), (two, bodies[::-1]))
            ))  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200], answers[0].text[:300]
    tallies = [a.json() for a in answers]
    assert sum(t["created"] for t in tallies) == 5000
    assert [t["created"] + t["duplicate"] for t in tallies] == [5000, 5000]


async def test_bulk_line_naming_a_key_twice_is_refused_alone(
    reporting: httpx.AsyncClient,
) -> None:
    """A line whose object names a key twice is refused, as a single POST's body would be (the
    parser would otherwise keep the last value without a word): at the top, in an object within,
    spaced before its colon, or beside text holding colons; a line with colons in its text and
    no key twice is stored."""
    colons = {"title": "ประชุม: 10:30 น.", "details": 'ผล: "ดี": ครบ'}
    doubled = [
        ('"households": 1', '"households": 1, "households": 900', {}),
        ('"people": 40', '"people": 40, "people": 4000', {}),
        ('"people": 40', '"people" : 40, "people"  :  4000', {}),
        ('"position": "ปลัดอำเภอ"', '"position": "ปลัดอำเภอ", "position": "x"', {}),
        ('"households": 1', '"households": 1, "households": 900', colons),
    ]
    good, with_colons = report(), report(**colons)
    lines: list[object] = [good, with_colons]
    twice = []
    for key, keys, overrides in doubled:
        body = report(households=1, **overrides)
        text = json.dumps(body, ensure_ascii=False)
        lines.append(text.replace(key, keys, 1).encode())
        assert lines[-1] != text.encode()
        twice.append(body["report_id"])
    r = await reporting.post("/v1/reports:bulk", content=ndjson(*lines), headers=NDJSON)
    assert r.status_code == 200, r.text
    statuses = {res["line"]: res for res in r.json()["results"]}
    assert [statuses[n]["status"] for n in (1, 2)] == ["created", "created"]
    for n, (_, keys, _) in enumerate(doubled, start=3):
        assert statuses[n]["status"] == "refused", keys
        assert statuses[n]["fields"][0]["type"] == "json_invalid"
        assert keys.split('"')[1] in statuses[n]["fields"][0]["message"]
    for report_id in twice:
        assert (await reporting.get(f"/v1/reports/{report_id}")).status_code == 404


async def test_bulk_line_refused_by_database_is_refused_alone(
    reporting: httpx.AsyncClient, database_url: str
) -> None:
    """A line PostgreSQL refuses (a NUL in its text) among 200: that line is refused with a
    field message, the other 199 are stored."""
    bodies = [report() for _ in range(200)]
    bodies[136]["title"] = "ประปา\u0000หมู่บ้าน"
    r = await reporting.post("/v1/reports:bulk", content=ndjson(*bodies), headers=NDJSON)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["created"], answer["refused"]) == (199, 1)
    [refusal] = [res for res in answer["results"] if res["status"] == "refused"]
    assert refusal["line"] == 137
    assert refusal["fields"]
    assert await _count(database_url, "SELECT count(*) FROM reports") == 199


async def test_bulk_store_refuses_only_the_lines_the_database_refuses(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, database_url: str
) -> None:
    """Lines that slipped past validation with values the database refuses, in both halves of
    an import and next to a resend: only those lines are refused."""
    valid = {n: ReportIn.model_validate(report()) for n in range(1, 1001)}
    valid[1001] = ReportIn.model_validate(valid[500].model_dump())  # sent again: a duplicate
    for n in (3, 777):
        valid[n] = valid[n].model_copy(update={"details": "รายละเอียด\x00"})
    valid[901] = valid[901].model_copy(update={"households": 2**40})  # not an integer column's
    pool = reporting_app.state.pool
    results = await bulk.store(pool, valid, reporting_app.state.directory, "officer")
    statuses = {r.line: r.status for r in results}
    assert sorted(statuses) == sorted(valid)
    assert [n for n, s in statuses.items() if s == "refused"] == [3, 777, 901]
    assert statuses[1001] == "duplicate"
    assert list(statuses.values()).count("created") == 997
    assert await _count(database_url, "SELECT count(*) FROM report_history") == 997


async def test_slow_bulk_uploads_leave_connections_for_single_reports(
    reporting_settings: ReportingSettings,
) -> None:
    """More bulk uploads than the pool has connections, each sending its body slowly: single
    POSTs are stored all the while, and the uploads are stored once their bodies arrive."""
    app = create_app(reporting_settings.model_copy(update={"pool_max_size": 3}))
    bodies = [[report() for _ in range(20)] for _ in range(4)]
    arrive = asyncio.Event()
    sending = 0

    async def slowly(lines: list[dict[str, object]]) -> AsyncIterator[bytes]:
        nonlocal sending
        yield ndjson(*lines[:10]) + b"\n"
        sending += 1
        await arrive.wait()
        yield ndjson(*lines[10:])

    async with serve(app) as client:
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        uploads = [
            asyncio.create_task(
                client.post("/v1/reports:bulk", content=slowly(lines), headers=NDJSON)
            )
            for lines in bodies
        ]
        try:
            async with asyncio.timeout(10):
                while sending < len(uploads):  # every upload is in the middle of its body
                    await asyncio.sleep(0.01)
                for _ in range(5):
                    single = await client.post("/v1/reports", json=report())
                    assert single.status_code == 201, single.text
        finally:
            arrive.set()
        answers = await asyncio.gather(*uploads)
    assert [(a.status_code, a.json()["created"]) for a in answers] == [(200, 20)] * 4


async def _count(database_url: str, sql: str) -> int:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()
