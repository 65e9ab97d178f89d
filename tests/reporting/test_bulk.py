import asyncio
import json

import httpx

from tests.utils.auth import bearer
from tests.utils.factories import report
from tests.utils.processes import service_env
from warroom_cli.embedded import serving
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
