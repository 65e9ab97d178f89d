"""The district page in a real browser: its team's 10 roles (filled or missing), its designated
Sustainable Villages and its latest reports, newest first with Buddhist-era dates, all read
through the services' APIs with the user's own token; the same sections in its JSON twin, and
a role that may not read them told so."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
from playwright.async_api import expect

from tests.utils.factories import member, report
from tests.web.conftest import Stack, Visit
from tests.web.test_degraded import signed_in
from tests.web.test_nation import serious_violations
from warroom_shared.domain import ROLE_LABELS, Role
from warroom_shared.security.principal import AccessRole

PAGE = "/district/1201?fy=2568&q=2"
MISSING = (Role.PRIVATE_LEADER, Role.ROYAL_LEARNING_CENTRE)
VILLAGES = {"120101": (3, "บ้านสวนใหญ่"), "120104": (5, "บ้านบางกระสอ")}
# 12 reports of FY 2568 Q2 (Jan-Mar 2025), posted oldest first, on these days
DAYS = [dt.date(2025, 1, 6) + dt.timedelta(days=7 * n) for n in range(12)]
MONTHS_TH = {1: "ม.ค.", 2: "ก.พ.", 3: "มี.ค."}


async def district_set_up(stack: Stack) -> None:
    """Mueang Nonthaburi's team of FY 2568 with every role but `MISSING`, two designated
    villages, and a report on each of `DAYS`, counted."""
    registry = stack.registry
    answer = await registry.post("/v1/teams", json={"district_code": "1201", "fiscal_year": 2568})
    assert answer.status_code == 201, answer.text
    team, etag = answer.json()["id"], answer.headers["ETag"]
    for n, role in enumerate(r for r in Role if r not in MISSING):
        body = member(name=f"สมาชิก {n + 1}", position=ROLE_LABELS[role][0].th)
        answer = await registry.put(
            f"/v1/teams/{team}/members/{role}", json=body, headers={"If-Match": etag}
        )
        assert answer.status_code == 200, answer.text
        etag = answer.headers["ETag"]
    for subdistrict, (no, name) in VILLAGES.items():
        answer = await registry.put(
            f"/v1/districts/1201/villages/2568/{subdistrict}", json={"village_no": no, "name": name}
        )
        assert answer.status_code == 200, answer.text
    for n, day in enumerate(DAYS):
        body = report(
            activity_date=str(day), subdistrict_code="120104" if n % 2 else "120101",
            dimensions=["education"] if n % 2 else ["water"], stages=["talk", "think"],
            title=f"กิจกรรมที่ {n + 1}",
        )  # fmt: skip
        assert (await stack.reporting.post("/v1/reports", json=body)).status_code == 201
    period = {"scope": "district", "code": "1201", "fiscal_year": 2568, "quarter": 2}
    async with asyncio.timeout(20):
        while (await stack.aggregator.get("/v1/totals", params=period)).json()["reports"] != 12:
            await asyncio.sleep(0.05)


def thai_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS_TH[day.month]} {day.year + 543}"


async def test_district_page_shows_its_team_villages_and_latest_reports_and_json_twin(
    stack: Stack, visit: Visit
) -> None:
    await district_set_up(stack)
    await visit.sign_in(AccessRole.DISTRICT_OFFICER, "1201")
    page = visit.page
    await page.goto(visit.base + PAGE)
    # its own status from the aggregator's completeness: reported after the 15 April deadline
    await expect(page.locator(".completeness .tag")).to_have_text("ล่าช้า")

    team = page.get_by_role("region", name="ทีมอำเภอ 10 บทบาท")
    await expect(team.locator(".big-figure")).to_have_text("8 จาก 10 บทบาทมีผู้ดำรงตำแหน่งแล้ว")
    rows = team.locator("tbody tr")
    await expect(rows).to_have_count(10)
    headers = await rows.locator("th").all_inner_texts()
    assert [h.split("\n")[0] for h in headers] == [
        f"{n}. {label.th}" for n, (label, _) in enumerate(ROLE_LABELS.values(), 1)
    ]  # the programme's order
    statuses = [s.strip() for s in await rows.locator(".tag").all_inner_texts()]
    assert statuses == ["✓ มีแล้ว"] * 8 + ["✗ ยังขาด"] * 2
    await expect(rows.nth(0)).to_contain_text("สมาชิก 1")  # names: the district's officer
    await expect(rows.nth(0)).to_contain_text("081-234-5678")

    villages = page.get_by_role("region", name="หมู่บ้านยั่งยืนที่อำเภอกำหนด")
    assert await villages.locator("tbody tr").all_inner_texts() == [
        "บ้านสวนใหญ่ หมู่ที่ 3\tสวนใหญ่",
        "บ้านบางกระสอ หมู่ที่ 5\tบางกระสอ",
    ]

    latest = page.get_by_role("region", name="รายงานล่าสุดของไตรมาสนี้")
    dates = await latest.locator("tbody td:first-child").all_inner_texts()
    assert dates == [thai_date(day) for day in reversed(DAYS)][:10]  # newest first, B.E.
    first = await latest.locator("tbody tr").first.locator("th, td").all_inner_texts()
    assert first == ["24 มี.ค. 2568", "กิจกรรมที่ 12\nต.บางกระสอ หมู่ที่ 3", "การศึกษา",
                     "ร่วมพูดคุย, ร่วมคิด", "52"]  # fmt: skip
    await expect(latest).to_contain_text("จากทั้งหมด 12 รายงานในไตรมาสนี้")
    await visit.screenshot("district-team")
    assert await serious_violations(page) == []
    await page.set_viewport_size({"width": 360, "height": 800})
    await visit.screenshot("district-team-360px")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, "the page scrolls sideways at 360 px"
    await page.emulate_media(media="print")
    await page.set_viewport_size({"width": 794, "height": 1123})
    await visit.screenshot("district-team-print")

    # the JSON twin, for a national viewer (no names) and a monitor (no teams, no reports)
    async with httpx.AsyncClient(base_url=stack.web) as client:
        await signed_in(client, "national_viewer")
        twin = (await client.get(PAGE + "&format=json")).json()["sections"]
        english = (await client.get(PAGE + "&lang=en")).text
        await signed_in(client, "monitor")
        monitor = (await client.get(PAGE + "&format=json")).json()["sections"]
        monitor_page = (await client.get(PAGE)).text
    assert twin["team"]["roles_filled"] == 8
    roles = twin["team"]["roles"]
    assert [r["role"]["code"] for r in roles] == list(Role)
    assert [r["role"]["code"] for r in roles if r["member"] is None] == list(MISSING)
    # a viewer gets no personal data from the registry, so the page has none
    assert roles[0]["member"] == {"name": None, "position": "นายอำเภอ",
                                  "organisation": "ที่ว่าการอำเภอ", "phone": None, "email": None}  # fmt: skip
    assert "names and contacts are shown only to administrators" in english
    assert "สมาชิก 1" not in english
    assert twin["villages"] == [
        {"subdistrict_code": "120101", "subdistrict_th": "สวนใหญ่", "subdistrict_en": "Suan Yai",
         "village_no": 3, "name": "บ้านสวนใหญ่"},
        {"subdistrict_code": "120104", "subdistrict_th": "บางกระสอ", "subdistrict_en": "Bang Kraso",
         "village_no": 5, "name": "บ้านบางกระสอ"},
    ]  # fmt: skip
    assert "<td>Bang Kraso</td>" in english
    reports = twin["reports"]
    assert [r["activity_date"] for r in reports["items"]] == [str(d) for d in reversed(DAYS)][:10]
    assert reports["more"] is True
    assert reports["items"][0]["dimensions"] == [
        {"code": "education", "th": "การศึกษา", "en": "Education"}
    ]
    assert reports["items"][0]["participants_total"] == 52
    assert twin["completeness"]["statuses"][0]["status"] == "late"
    assert {k: monitor[k] for k in ("team", "villages", "reports")} == {
        "team": {"refused": "forbidden"}, "villages": {"refused": "forbidden"},
        "reports": {"refused": "forbidden"},
    }  # fmt: skip
    assert monitor_page.count("บทบาทของบัญชีนี้ไม่มีสิทธิ์ดูข้อมูลส่วนนี้") == 3


async def test_district_page_says_the_registry_and_reporting_do_not_answer(
    web_alone: httpx.AsyncClient,
) -> None:
    await signed_in(web_alone, "district_officer", "1201")
    page = await web_alone.get(PAGE)
    assert page.status_code == 200
    assert page.text.count("ขณะนี้ไม่สามารถดึงข้อมูลจากบริการ ทะเบียน ได้") == 2  # team, villages
    assert page.text.count("ขณะนี้ไม่สามารถดึงข้อมูลจากบริการ รายงาน ได้") == 1
    twin = (await web_alone.get(PAGE + "&format=json")).json()["sections"]
    assert {k: twin[k] for k in ("team", "villages", "reports")} == {
        "team": {"unavailable": "registry"}, "villages": {"unavailable": "registry"},
        "reports": {"unavailable": "reporting"},
    }  # fmt: skip
