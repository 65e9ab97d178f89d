import json

import httpx

from tests.utils.auth import bearer
from tests.utils.factories import report
from warroom_shared.security.principal import AccessRole

NDJSON = {"Content-Type": "application/x-ndjson"}
PLACES = [("1201", "120101"), ("1202", "120201"), ("5001", "500101")]
# Officers of Nonthaburi (12) and Mueang Nonthaburi (1201): Bangkok's khet are outside the
# programme, so no report of theirs.
AREAS = {AccessRole.DISTRICT_OFFICER: "1201", AccessRole.PROVINCE_OFFICER: "12"}


async def _reports_in_three_districts(reporting: httpx.AsyncClient) -> dict[str, str]:
    ids = {}
    for district, subdistrict in PLACES:
        body = report(district_code=district, subdistrict_code=subdistrict)
        assert (await reporting.post("/v1/reports", json=body)).status_code == 201
        ids[district] = body["report_id"]
    return ids


async def test_lists_and_exports_hold_each_officer_to_its_area(
    reporting: httpx.AsyncClient,
) -> None:
    await _reports_in_three_districts(reporting)
    listed = {}
    for role in (
        AccessRole.DISTRICT_OFFICER,
        AccessRole.PROVINCE_OFFICER,
        AccessRole.NATIONAL_VIEWER,
    ):
        page = await reporting.get("/v1/reports", headers=bearer(role, AREAS.get(role)))
        sheet = await reporting.get("/v1/reports.csv", headers=bearer(role, AREAS.get(role)))
        rows = sheet.text.splitlines()[1:]
        listed[role] = sorted(r["district_code"] for r in page.json()["items"]), len(rows)

    assert listed[AccessRole.DISTRICT_OFFICER] == (["1201"], 1)
    assert listed[AccessRole.PROVINCE_OFFICER] == (["1201", "1202"], 2)
    assert listed[AccessRole.NATIONAL_VIEWER] == (["1201", "1202", "5001"], 3)


async def test_district_officer_writes_only_its_own_district(reporting: httpx.AsyncClient) -> None:
    ids = await _reports_in_three_districts(reporting)
    officer = bearer(AccessRole.DISTRICT_OFFICER, "1201")
    elsewhere = report(district_code="1202", subdistrict_code="120201")

    posted = await reporting.post("/v1/reports", json=elsewhere, headers=officer)
    moved = await reporting.put(
        f"/v1/reports/{ids['1201']}", headers={**officer, "If-Match": '"1"'},
        json={k: v for k, v in elsewhere.items() if k != "report_id"},
    )  # fmt: skip
    retracted = await reporting.request(
        "DELETE", f"/v1/reports/{ids['1202']}", headers=officer,
        json={"reason": "ซ้ำ", "retracted_by": {"name": "ก", "position": "ข"}},
    )  # fmt: skip

    assert posted.status_code == 403
    assert posted.json()["error"]["code"] == "outside_area"
    assert moved.status_code == 403  # its own report, but not into another district
    assert retracted.status_code == 404
    assert (await reporting.get(f"/v1/reports/{elsewhere['report_id']}")).status_code == 404
    assert (await reporting.get(f"/v1/reports/{ids['1201']}")).json()["version"] == 1


async def test_bulk_refuses_lines_outside_the_area_and_keeps_the_rest(
    reporting: httpx.AsyncClient,
) -> None:
    lines = [report(), report(district_code="5001", subdistrict_code="500101")]
    answer = await reporting.post(
        "/v1/reports:bulk", content="\n".join(json.dumps(line) for line in lines),
        headers={**bearer(AccessRole.DISTRICT_OFFICER, "1201"), **NDJSON},
    )  # fmt: skip

    body = answer.json()
    assert (body["created"], body["refused"]) == (1, 1)
    assert body["results"][1]["fields"] == [
        {"field": "district_code", "message": "อยู่นอกพื้นที่ของคุณ", "type": "outside_area"}
    ]
