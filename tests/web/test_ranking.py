"""The ranking page: provinces by reports per district of the programme, districts by reports per
subdistrict, never by raw volume; ties share a rank (1, 2, 2, 4); areas with too few reports
listed apart. In a real browser with reports posted so the order is known, its JSON twin, an
officer held to their area, and a clear message when the aggregator is down."""

from __future__ import annotations

import asyncio
import re

import httpx
from playwright.async_api import Page, expect

from tests.utils.factories import report
from tests.web.conftest import Stack, Visit
from tests.web.test_degraded import signed_in
from tests.web.test_nation import serious_violations
from warroom_shared.security.principal import AccessRole
from warroom_web.pages.ranking import MIN_REPORTS, province_rows, rank

PAGE = "/ranking?fy=2568&q=2"
# district: reports. Raw volume would put Nonthaburi (12) first; per district of the programme,
# Phuket (9 over 3) leads, Nonthaburi (12 over 6) and Samut Songkhram (6 over 3) tie at 2.00,
# Samut Sakhon (5 over 3) is 4th, and Chiang Mai's 4 reports are too few to rank.
POSTED = {"8301": 9, "1201": 7, "1203": 5, "7501": 6, "7401": 5, "5001": 4}


def row(code: str, reports: int, size: int) -> dict[str, object]:
    return {"code": code, "name_th": code, "name_en": code, "reports": reports, "size": size}


def test_rank_shares_a_rank_between_equal_rates_and_skips_the_next() -> None:
    rows = [row("a", 9, 3), row("b", 12, 6), row("c", 6, 3), row("d", 5, 3), row("e", 40, 20)]
    ranked, too_few = rank(rows, "size")
    assert [(r["code"], r["rank"], r["rate"]) for r in ranked] == [
        ("a", 1, 3.0), ("b", 2, 2.0), ("c", 2, 2.0), ("e", 2, 2.0), ("d", 5, 1.67),
    ]  # fmt: skip
    assert too_few == []


def test_rank_compares_rates_as_shown_to_two_decimals() -> None:
    ranked, _ = rank([row("a", 10, 3), row("b", 3334, 1000), row("c", 3336, 1000)], "size")
    assert [(r["code"], r["rank"], r["rate"]) for r in ranked] == [
        ("c", 1, 3.34), ("a", 2, 3.33), ("b", 2, 3.33),
    ]  # fmt: skip


def test_rank_lists_too_few_reports_and_nothing_to_divide_by_apart() -> None:
    few = MIN_REPORTS - 1
    ranked, too_few = rank(
        [row("a", MIN_REPORTS, 50), row("b", few, 1), row("c", 0, 4), row("d", 9, 0)], "size"
    )
    assert [(r["code"], r["rank"]) for r in ranked] == [("a", 1)]  # 0.1 per: still ranked
    assert [(r["code"], r["reason"]) for r in too_few] == [
        ("d", "nothing_in_scope"), ("b", "few_reports"), ("c", "few_reports"),
    ]  # fmt: skip


def test_province_rows_count_the_programmes_districts_and_their_shares() -> None:
    places = [{"key": "12", "name_th": "นนทบุรี", "name_en": "Nonthaburi", "reports": 8}]
    statuses = [
        {"code": "1201", "province_code": "12", "status": "on_time"},
        {"code": "1202", "province_code": "12", "status": "late"},
        {"code": "1203", "province_code": "12", "status": "not_yet"},
        {"code": "1204", "province_code": "12", "status": "not_yet"},
        {"code": "7501", "province_code": "75", "status": "not_yet"},
    ]
    rows = province_rows(places, statuses)
    assert [(r["code"], r["name_en"], r["reports"], r["districts"]) for r in rows] == [
        ("12", "Nonthaburi", 8, 4), ("75", "Samut Songkhram", 0, 1),
    ]  # fmt: skip
    assert (rows[0]["reported_share"], rows[0]["on_time_share"]) == (0.5, 0.25)


async def posted(stack: Stack) -> None:
    """The reports of `POSTED` (FY 2568 Q2, its deadline long past), all counted."""
    bodies = [
        report(district_code=district, subdistrict_code=district + "01")
        for district, count in POSTED.items()
        for _ in range(count)
    ]
    for answer in await asyncio.gather(
        *(stack.reporting.post("/v1/reports", json=b) for b in bodies)
    ):
        assert answer.status_code == 201, answer.text
    period = {"fiscal_year": 2568, "quarter": 2}
    async with asyncio.timeout(20):
        while (await stack.aggregator.get("/v1/totals", params=period)).json()["reports"] != len(
            bodies
        ):
            await asyncio.sleep(0.05)


async def ranked_rows(page: Page) -> list[tuple[str, str, str]]:
    """(rank, name, rate) of each ranked row, top to bottom."""
    rows = page.locator("#ranked tbody tr")
    ranks = await rows.locator("td.ranking-rank").all_inner_texts()
    names = await rows.locator("th[scope=row]").all_inner_texts()
    rates = await rows.locator("td.ranking-rate").all_inner_texts()
    return list(zip(ranks, names, rates, strict=True))


async def test_a_viewer_ranks_provinces_then_one_provinces_districts(
    stack: Stack, visit: Visit
) -> None:
    await posted(stack)
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + "/?fy=2568&q=2")
    nav = page.get_by_role("navigation", name="เมนูหลัก")
    await nav.get_by_role("link", name="การจัดอันดับ").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("การจัดอันดับจังหวัด")
    await page.get_by_label("ปีงบประมาณ (พ.ศ.)").select_option("2568")
    await page.get_by_label("ไตรมาส").select_option("2")
    await page.get_by_role("button", name="แสดงผล").click()
    await expect(page).to_have_url(re.compile(r"/ranking\?level=province&fy=2568&q=2$"))
    assert await ranked_rows(page) == [
        ("1", "ภูเก็ต", "3.00"), ("2", "นนทบุรี", "2.00"), ("2", "สมุทรสงคราม", "2.00"),
        ("4", "สมุทรสาคร", "1.67"),
    ]  # fmt: skip
    await expect(page.get_by_role("columnheader", name="รายงานต่ออำเภอในโครงการ")).to_have_attribute(
        "aria-sort", "descending"
    )
    await expect(page.get_by_text("ครบกำหนดส่งรายงานแล้วเมื่อ 15 เม.ย. 2568")).to_be_visible()
    too_few = page.locator(".ranking-too-few")
    await too_few.locator("summary").click()  # 72 provinces: folded until asked for
    first = too_few.locator("tbody tr").first
    await expect(first).to_have_text(re.compile(r"เชียงใหม่\s*4\s*รายงานน้อยกว่า 5 รายงาน"))
    await expect(too_few.locator("tbody tr")).to_have_count(77 - 1 - 4)  # Bangkok: no district
    await visit.screenshot("ranking-provinces")
    # a province's row opens the ranking of its districts: per subdistrict, not per report
    await page.get_by_role("link", name="นนทบุรี", exact=True).click()
    await expect(page).to_have_url(re.compile(r"level=district&province=12&fy=2568&q=2$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("การจัดอันดับอำเภอในนนทบุรี")
    assert await ranked_rows(page) == [("1", "บางใหญ่", "0.83"), ("2", "เมืองนนทบุรี", "0.70")]
    await expect(too_few.locator("tbody th")).to_have_text(
        ["บางกรวย", "บางบัวทอง", "ไทรน้อย", "ปากเกร็ด"]
    )
    assert await serious_violations(page) == []
    await visit.screenshot("ranking-districts")
    await page.set_viewport_size({"width": 360, "height": 800})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, "the page scrolls sideways at 360 px"
    await visit.screenshot("ranking-districts-360px")
    await page.emulate_media(media="print")
    await expect(page.get_by_role("button", name="แสดงผล")).to_be_hidden()
    await expect(page.get_by_role("navigation", name="จัดอันดับระดับ")).to_be_hidden()
    await expect(page.locator("#ranked")).to_be_visible()
    await page.emulate_media(media="screen")
    twin = await (await visit.context.request.get(visit.base + PAGE + "&format=json")).json()
    assert (twin["level"], twin["measure"], twin["minimum_reports"]) == (
        "province", "reports_per_district", MIN_REPORTS,
    )  # fmt: skip
    assert [(r["code"], r["rank"], r["rate"], r["reports"], r["districts"])
            for r in twin["ranked"]] == [
        ("83", 1, 3.0, 9, 3), ("12", 2, 2.0, 12, 6), ("75", 2, 2.0, 6, 3), ("74", 4, 1.67, 5, 3),
    ]  # fmt: skip
    chiang_mai = {k: twin["too_few"][0][k] for k in ("code", "reports", "reason")}
    assert chiang_mai == {"code": "50", "reports": 4, "reason": "few_reports"}
    assert twin["provisional"] is False
    this_quarter = await page.goto(visit.base + "/ranking?lang=en")  # before its deadline
    assert this_quarter is not None
    assert this_quarter.status == 200
    await expect(page.get_by_role("status")).to_contain_text("A provisional ranking")


async def test_an_officer_ranks_their_provinces_districts_only(stack: Stack, visit: Visit) -> None:
    await posted(stack)
    await visit.sign_in(AccessRole.PROVINCE_OFFICER, "12")
    page, request = visit.page, visit.context.request
    await page.goto(visit.base + PAGE + "&lang=en")  # an officer's default: their districts
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Districts ranked in Nonthaburi"
    )
    assert await ranked_rows(page) == [
        ("1", "Bang Yai", "0.83"),
        ("2", "Mueang Nonthaburi", "0.70"),
    ]
    await expect(page.get_by_label("Province")).to_have_count(0)  # one province: no choice
    await visit.screenshot("ranking-officer-en")
    for elsewhere in ("&level=province", "&level=district&province=50"):
        answer = await page.goto(visit.base + PAGE + "&lang=en" + elsewhere)
        assert answer is not None
        assert answer.status == 403, elsewhere
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "You may not see this area's figures"
        )
        assert "ภูเก็ต" not in await page.content()
    twin = await request.get(visit.base + PAGE + "&level=province&format=json")
    assert twin.status == 403
    await visit.sign_in(AccessRole.DISTRICT_OFFICER, "1201")  # one district: nothing to rank
    answer = await request.get(visit.base + PAGE)
    assert answer.status == 403
    assert "0.83" not in await answer.text()


async def test_the_page_says_the_aggregator_does_not_answer(
    web_alone: httpx.AsyncClient,
) -> None:
    assert (await web_alone.get(PAGE)).headers["location"].startswith("/signin?next=%2Franking")
    await signed_in(web_alone, "national_viewer")
    page = await web_alone.get(PAGE)
    assert page.status_code == 503
    assert "ขณะนี้ไม่สามารถดึงข้อมูลจากบริการ สรุปผล ได้" in page.text
    assert "<table" not in page.text
    twin = await web_alone.get(PAGE + "&format=json")
    assert (twin.status_code, twin.json()) == (503, {"unavailable": "aggregator"})
    assert (await web_alone.get(PAGE + "&level=nation")).status_code == 422
