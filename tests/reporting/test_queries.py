import csv
import io
from collections.abc import Awaitable, Callable

import httpx

from tests.utils.factories import report

NDJSON = {"Content-Type": "application/x-ndjson"}


async def _seed(
    reporting: httpx.AsyncClient, designate: Callable[..., Awaitable[None]]
) -> list[dict[str, object]]:
    await designate("1201", 2568, ("120101", 3))
    bodies = [
        report(),
        report(activity_date="2025-05-01"),
        report(programme="sustainable_village"),
        report(district_code="1202", subdistrict_code=None),
        report(district_code="5001", subdistrict_code=None),
    ]
    for body in bodies:
        assert (await reporting.post("/v1/reports", json=body)).status_code == 201
    return bodies


async def test_list_reports_filters_and_pages(
    reporting: httpx.AsyncClient, designate: Callable[..., Awaitable[None]]
) -> None:
    bodies = await _seed(reporting, designate)
    r = await reporting.get(
        "/v1/reports", params={"province": "12", "fiscal_year": 2568, "quarter": 2}
    )
    assert len(r.json()["items"]) == 3
    r = await reporting.get(
        "/v1/reports", params={"district": "1201", "programme": "sustainable_village"}
    )
    assert [i["report_id"] for i in r.json()["items"]] == [bodies[2]["report_id"]]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await reporting.get("/v1/reports", params=params)).json()
        seen += [i["report_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(str(b["report_id"]) for b in bodies)
    bad = await reporting.get("/v1/reports", params={"quarter": 5, "limit": 0})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["error"]["fields"]} == {"query.quarter", "query.limit"}


async def test_export_csv_keeps_thai_for_excel(
    reporting: httpx.AsyncClient, designate: Callable[..., Awaitable[None]]
) -> None:
    await _seed(reporting, designate)
    r = await reporting.get("/v1/reports.csv", params={"province": "12"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert rows[0]["title"] == "ซ่อมแซมประปาหมู่บ้าน"
    assert rows[0]["participants_people"] == "40"


async def test_count_reports_per_district_and_programme(
    reporting: httpx.AsyncClient, designate: Callable[..., Awaitable[None]]
) -> None:
    bodies = await _seed(reporting, designate)
    await reporting.request(
        "DELETE", f"/v1/reports/{bodies[3]['report_id']}",
        json={"reason": "ผิดเขต", "retracted_by": {"name": "ก", "position": "ข"}},
    )  # fmt: skip
    r = await reporting.get("/v1/reports:counts", params={"fiscal_year": 2568, "quarter": 2})
    rows = {(row["district_code"], row["programme"]): row for row in r.json()["rows"]}
    assert set(rows) == {("1201", "cast"), ("1201", "sustainable_village"), ("5001", "cast")}
    assert rows[("1201", "cast")]["reports"] == 1
    assert rows[("1201", "cast")]["participants"]["people"] == 40
    assert rows[("1201", "cast")]["households"] == 12
    assert (
        await reporting.get("/v1/reports:counts", params={"fiscal_year": 2568})
    ).status_code == 422


async def test_count_reports_per_stage_and_month(reporting: httpx.AsyncClient) -> None:
    bodies = [
        report(activity_date="2025-01-31", stages=["talk"]),
        report(activity_date="2025-03-01", stages=["talk", "think", "act"]),
        report(activity_date="2025-03-02", stages=["benefit", "talk"]),
        report(activity_date="2025-03-03", stages=["act"]),
    ]
    for body in bodies:
        assert (await reporting.post("/v1/reports", json=body)).status_code == 201
    await reporting.request(
        "DELETE", f"/v1/reports/{bodies[3]['report_id']}",
        json={"reason": "ซ้ำ", "retracted_by": {"name": "ก", "position": "ข"}},
    )  # fmt: skip

    r = await reporting.get("/v1/reports:counts", params={"fiscal_year": 2568, "quarter": 2})

    [row] = r.json()["rows"]
    assert row["reports"] == 3
    assert row["stages"] == {"talk": 3, "think": 1, "act": 1, "benefit": 1}
    assert row["months"] == {"1": 1, "3": 2}  # February had none
    assert (row["households"], row["participants"]["people"]) == (36, 120)
