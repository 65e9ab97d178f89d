import httpx
from nats.aio.client import Client as NATS

from tests.utils.auth import bearer
from tests.utils.factories import report
from tests.utils.nats import collect
from warroom_shared.security.principal import AccessRole

WHO = {"name": "สมศักดิ์ แก้ไข", "position": "ปลัดอำเภอ"}


def _content(body: dict[str, object], **changes: object) -> dict[str, object]:
    return {k: v for k, v in {**body, **changes}.items() if k != "report_id"}


async def test_amend_report_moves_figures(reporting: httpx.AsyncClient, nc: NATS) -> None:
    body = report()
    await reporting.post("/v1/reports", json=body)
    url = f"/v1/reports/{body['report_id']}"
    amended = _content(body, district_code="1202", subdistrict_code=None,
                       activity_date="2025-04-02", reported_by=WHO)  # fmt: skip
    r = await reporting.put(url, json=amended, headers={"If-Match": '"1"'})
    assert r.status_code == 200
    assert r.headers["ETag"] == '"2"'
    assert (r.json()["fiscal_year"], r.json()["quarter"]) == (2568, 3)

    events = await collect(nc, "REPORTS", "warroom.report.>", 2)
    assert [s for s, _, _ in events] == [
        "warroom.report.submitted.12.1201",
        "warroom.report.amended.12.1202",
    ]
    data = events[1][1]["data"]
    assert (data["old"]["district_code"], data["old"]["quarter"]) == ("1201", 2)
    assert (data["new"]["district_code"], data["new"]["quarter"]) == ("1202", 3)
    assert data["version"] == 2
    assert "สมศักดิ์" not in str(events)  # who reported it never goes on NATS


async def test_amend_report_stale_version_answers_412(reporting: httpx.AsyncClient) -> None:
    body = report()
    await reporting.post("/v1/reports", json=body)
    url = f"/v1/reports/{body['report_id']}"
    assert (
        await reporting.put(url, json=_content(body, households=1), headers={"If-Match": '"1"'})
    ).status_code == 200
    r = await reporting.put(url, json=_content(body, households=2), headers={"If-Match": '"1"'})
    assert r.status_code == 412
    assert (await reporting.get(url)).json()["households"] == 1
    assert (await reporting.put(url, json=_content(body))).status_code == 428


async def test_amend_report_checks_fields(reporting: httpx.AsyncClient) -> None:
    body = report()
    await reporting.post("/v1/reports", json=body)
    url = f"/v1/reports/{body['report_id']}"
    r = await reporting.put(
        url, json=_content(body, district_code="9999"), headers={"If-Match": '"1"'}
    )
    assert r.status_code == 422
    r = await reporting.put(url, json={**body, "households": 3}, headers={"If-Match": '"1"'})
    assert r.status_code == 422  # report_id is not an amendable field
    missing = "/v1/reports/00000000-0000-4000-8000-000000000000"
    assert (
        await reporting.put(missing, json=_content(body), headers={"If-Match": '"1"'})
    ).status_code == 404


async def test_retract_report_and_history(reporting: httpx.AsyncClient, nc: NATS) -> None:
    body = report()
    await reporting.post("/v1/reports", json=body)
    url = f"/v1/reports/{body['report_id']}"
    officer = bearer(AccessRole.DISTRICT_OFFICER, "1201")
    await reporting.put(
        url, json=_content(body, households=20, reported_by=WHO),
        headers={"If-Match": '"1"', **officer},
    )  # fmt: skip
    r = await reporting.request("DELETE", url, json={"reason": "รายงานซ้ำ", "retracted_by": WHO})
    assert r.status_code == 200
    assert r.json()["status"] == "retracted"
    again = await reporting.put(url, json=_content(body), headers={"If-Match": '"3"'})
    assert again.status_code == 409

    history = (await reporting.get(f"{url}/history")).json()
    assert [h["action"] for h in history] == ["submitted", "amended", "retracted"]
    assert history[1]["changes"] == {
        "households": {"from": 12, "to": 20},
        "reported_by": {"from": body["reported_by"], "to": WHO},
    }
    assert history[1]["actor"] == WHO
    assert [h["account"] for h in history] == [
        "dev-admin-all", "dev-district_officer-1201", "dev-admin-all",
    ]  # fmt: skip
    assert history[2]["reason"] == "รายงานซ้ำ"

    events = await collect(nc, "REPORTS", "warroom.report.retracted.>", 1)
    data = events[0][1]["data"]
    assert data["old"]["households"] == 20
    assert data["reason"] == "รายงานซ้ำ"


async def test_retract_report_needs_reason(reporting: httpx.AsyncClient) -> None:
    body = report()
    await reporting.post("/v1/reports", json=body)
    url = f"/v1/reports/{body['report_id']}"
    r = await reporting.request("DELETE", url, json={"retracted_by": WHO})
    assert r.status_code == 422
    assert "reason" in [f["field"] for f in r.json()["error"]["fields"]]
    r = await reporting.request(
        "DELETE", url, json={"reason": "ซ้ำ", "retracted_by": WHO}, headers={"If-Match": '"7"'}
    )
    assert r.status_code == 412
    assert (await reporting.get(f"{url}/history")).json()[-1]["action"] == "submitted"
