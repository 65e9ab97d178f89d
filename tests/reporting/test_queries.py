import csv
import io

import httpx

from tests.utils.factories import report

NDJSON = {"Content-Type": "application/x-ndjson"}


async def _seed(reporting: httpx.AsyncClient) -> list[dict[str, object]]:
    bodies = [
        report(),
        report(activity_date="2025-05-01"),
        report(programme="sustainable_village"),
        report(district_code="1002", subdistrict_code=None),
        report(district_code="5001", subdistrict_code=None),
    ]
    for body in bodies:
        assert (await reporting.post("/v1/reports", json=body)).status_code == 201
    return bodies


async def test_list_reports_filters_and_pages(reporting: httpx.AsyncClient) -> None:
    bodies = await _seed(reporting)
    r = await reporting.get(
        "/v1/reports", params={"province": "10", "fiscal_year": 2568, "quarter": 2}
    )
    assert len(r.json()["items"]) == 3
    r = await reporting.get(
        "/v1/reports", params={"district": "1001", "programme": "sustainable_village"}
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


async def test_export_csv_keeps_thai_for_excel(reporting: httpx.AsyncClient) -> None:
    await _seed(reporting)
    r = await reporting.get("/v1/reports.csv", params={"province": "10"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert rows[0]["title"] == "ซ่อมแซมประปาหมู่บ้าน"
    assert rows[0]["participants_people"] == "40"


async def test_count_reports_per_district_and_programme(reporting: httpx.AsyncClient) -> None:
    bodies = await _seed(reporting)
    await reporting.request(
        "DELETE", f"/v1/reports/{bodies[3]['report_id']}",
        json={"reason": "ผิดเขต", "retracted_by": {"name": "ก", "position": "ข"}},
    )  # fmt: skip
    r = await reporting.get("/v1/reports:counts", params={"fiscal_year": 2568, "quarter": 2})
    rows = {(row["district_code"], row["programme"]): row for row in r.json()["rows"]}
    assert set(rows) == {("1001", "cast"), ("1001", "sustainable_village"), ("5001", "cast")}
    assert rows[("1001", "cast")]["reports"] == 1
    assert rows[("1001", "cast")]["participants"]["people"] == 40
    assert rows[("1001", "cast")]["households"] == 12
    assert (
        await reporting.get("/v1/reports:counts", params={"fiscal_year": 2568})
    ).status_code == 422
