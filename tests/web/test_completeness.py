"""The completeness page in a real browser: which of the programme's districts have not reported
this quarter, filtered and sorted by plain links and a form, as CSV, an officer held to their
area, no serious accessibility violation, and a clear message when the aggregator is down."""

from __future__ import annotations

import asyncio
import csv
import io
import re

import httpx
from playwright.async_api import Page, expect

from tests.utils.factories import report
from tests.web.conftest import Stack, Visit
from tests.web.test_nation import serious_violations
from warroom_shared.fiscal import current_period, today_bangkok
from warroom_shared.security.principal import AccessRole

PAGE = "/completeness?fy=2568&q=2"
PERIOD = {"fiscal_year": 2568, "quarter": 2}
REPORTED = {"1201": "120101", "1202": "120201", "5001": "500101"}  # district: a subdistrict


async def reported(stack: Stack) -> dict[str, int]:
    """A report of each district of `REPORTED`, counted; the nation's completeness figures."""
    for district, subdistrict in REPORTED.items():
        body = report(district_code=district, subdistrict_code=subdistrict)
        answer = await stack.reporting.post("/v1/reports", json=body)
        assert answer.status_code == 201, answer.text
    async with asyncio.timeout(20):
        while True:
            figures = (await stack.aggregator.get("/v1/completeness", params=PERIOD)).json()
            if figures["reported"] == len(REPORTED):
                return {k: figures[k] for k in ("districts", "late", "not_reported")}
            await asyncio.sleep(0.05)


async def statuses(page: Page) -> list[str]:
    """Each row's status tag, top to bottom."""
    return await page.locator("tbody .tag").all_inner_texts()


async def districts(page: Page) -> list[str]:
    return await page.locator("tbody th[scope=row]").all_inner_texts()


async def test_the_page_lists_the_districts_not_yet_reported_first(
    stack: Stack, visit: Visit
) -> None:
    figures = await reported(stack)
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + "/?fy=2568&q=2")  # from the nation's completeness box
    await page.get_by_role("link", name="ดูรายชื่ออำเภอที่ยังไม่รายงาน").click()
    await expect(page).to_have_url(re.compile(r"/completeness\?fy=2568&q=2$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("ความครบถ้วนของการรายงาน")
    table = page.get_by_role("table")
    await expect(table.locator("caption")).to_contain_text(
        f"อำเภอในโครงการ {figures['districts']:,} อำเภอ"
    )
    await expect(table.locator("tbody tr")).to_have_count(figures["districts"])
    tags = await statuses(page)
    not_yet = figures["not_reported"]
    assert tags[:not_yet] == ["ยังไม่รายงาน"] * not_yet  # the ones to chase, first
    assert tags[not_yet:] == ["ล่าช้า"] * 3  # reported after the deadline of 15 April 2025
    assert sorted((await districts(page))[not_yet:]) == ["บางกรวย", "เมืองนนทบุรี", "เมืองเชียงใหม่"]
    summary = page.locator(".completeness-summary")
    await expect(summary).to_contain_text(f"ยังไม่รายงาน{not_yet:,}")
    await expect(summary).to_contain_text("ครบกำหนดส่งรายงานแล้วเมื่อ 15 เม.ย. 2568")
    await page.goto(visit.base + PAGE + "&province=12")  # a province: a screenshot to read
    await expect(table.locator("tbody tr")).to_have_count(6)
    await visit.screenshot("completeness")
    await page.set_viewport_size({"width": 360, "height": 800})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, "the page scrolls sideways at 360 px"
    await page.goto(visit.base + PAGE + "&status=late")
    await visit.screenshot("completeness-360px")


async def test_filter_by_province_and_status_and_sort_by_the_headers(
    stack: Stack, visit: Visit
) -> None:
    await reported(stack)
    nonthaburi = (
        await stack.aggregator.get("/v1/completeness", params={**PERIOD, "province": "12"})
    ).json()["districts"]
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + PAGE + "&lang=en")
    await page.get_by_label("Province").select_option(label="Nonthaburi")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"province=12"))
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(nonthaburi)
    assert set(await page.locator("tbody td:nth-child(3)").all_inner_texts()) == {"Nonthaburi"}
    await page.get_by_label("Status").select_option(label="Late")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"province=12&status=late"))
    assert await districts(page) == ["Bang Kruai", "Mueang Nonthaburi"]
    # the headers sort by plain links that keep the filters: district ascending, then descending
    header = page.get_by_role("columnheader", name=re.compile("District"))
    await expect(header).to_have_attribute("aria-sort", "none")
    await header.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(r"province=12&status=late&sort=district"))
    await expect(header).to_have_attribute("aria-sort", "ascending")
    await header.get_by_role("link").click()
    await expect(header).to_have_attribute("aria-sort", "descending")
    await expect(page.locator("caption")).to_contain_text("sorted by district (descending)")
    assert await districts(page) == ["Mueang Nonthaburi", "Bang Kruai"]
    await page.goto(visit.base + PAGE + "&lang=en&status=on_time")
    await expect(page.get_by_text("No district matches these filters")).to_be_visible()
    answer = await page.goto(visit.base + PAGE + "&sort=reports")  # not a column
    assert answer is not None
    assert answer.status == 422


async def test_the_csv_has_the_pages_rows_with_thai_names(stack: Stack, visit: Visit) -> None:
    await reported(stack)
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + PAGE + "&status=late&sort=-district")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="ดาวน์โหลด CSV").click()
    download = await waiting.value
    assert download.suggested_filename == "completeness-2568-q2.csv"
    path = await download.path()
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # UTF-8 with a BOM: a spreadsheet shows the Thai
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["district_code"], r["district_name_th"], r["province_name_th"]) for r in rows] == [
        ("5001", "เมืองเชียงใหม่", "เชียงใหม่"),
        ("1201", "เมืองนนทบุรี", "นนทบุรี"),
        ("1202", "บางกรวย", "นนทบุรี"),
    ]  # the page's order: by Thai name, descending
    assert {(r["status"], r["สถานะ"], r["due_on"]) for r in rows} == {
        ("late", "ล่าช้า", "2025-04-15")
    }


async def test_an_officer_sees_only_their_area(stack: Stack, visit: Visit) -> None:
    await reported(stack)
    await visit.sign_in(AccessRole.PROVINCE_OFFICER, "12")
    page = visit.page
    await page.goto(visit.base + PAGE + "&lang=en")
    codes = await page.locator("tbody td.col-code").all_inner_texts()
    assert len(codes) > 1
    assert {code[:2] for code in codes} == {"12"}
    await expect(page.get_by_label("Province")).to_have_count(0)  # one province: no filter
    await page.goto(visit.base + PAGE + "&province=50")  # another province's: nothing of it
    await expect(page.locator("tbody .tag")).to_have_count(0)
    await visit.sign_in(AccessRole.DISTRICT_OFFICER, "1201")
    await page.goto(visit.base + PAGE + "&lang=en")
    assert await districts(page) == ["Mueang Nonthaburi"]
    assert await statuses(page) == ["Late"]
    answer = await visit.context.request.get(visit.base + "/completeness.csv?fy=2568&q=2")
    lines = (await answer.text()).strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("2568,2,1201,")


async def test_the_page_in_english_is_accessible_and_prints_on_a4(
    stack: Stack, visit: Visit
) -> None:
    today = today_bangkok()  # a report of today: this quarter's, before its deadline
    body = report(district_code="1201", subdistrict_code="120101", activity_date=str(today))
    assert (await stack.reporting.post("/v1/reports", json=body)).status_code == 201
    now = current_period()
    period = {"fiscal_year": now.year, "quarter": now.quarter, "province": "12"}
    async with asyncio.timeout(20):
        while (figures := (await stack.aggregator.get("/v1/completeness", params=period)).json())[
            "on_time"
        ] != 1:
            await asyncio.sleep(0.05)
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + "/completeness?lang=en&province=12")  # this quarter by default
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reporting completeness")
    await expect(page.get_by_text(f"Fiscal year {now.year}, quarter {now.quarter}")).to_be_visible()
    summary = page.locator(".completeness-summary")
    await expect(summary).to_contain_text(f"Days left{figures['days_left']}")
    await expect(summary).to_contain_text("On time1")
    assert (await statuses(page))[-1] == "On time"
    assert await serious_violations(page) == []
    await visit.screenshot("completeness-en")
    await page.emulate_media(media="print")
    await expect(page.get_by_role("button", name="Show")).to_be_hidden()
    await expect(page.get_by_role("table")).to_be_visible()
    await visit.screenshot("completeness-print")
    pdf = await page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


async def test_the_page_says_the_aggregator_does_not_answer(
    web_alone: httpx.AsyncClient,
) -> None:
    first = await web_alone.get(PAGE)  # not signed in: the sign-in first, then back here
    assert first.status_code == 303
    assert first.headers["location"] == "/signin?next=%2Fcompleteness%3Ffy%3D2568%26q%3D2"
    form = await web_alone.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    signin = {"csrf": csrf[1], "role": "national_viewer", "area": ""}
    assert (await web_alone.post("/signin", data=signin)).status_code == 303
    page = await web_alone.get(PAGE)
    assert page.status_code == 503
    assert "ขณะนี้ไม่สามารถดึงข้อมูลจากบริการ สรุปผล ได้" in page.text
    assert "<table" not in page.text
    english = await web_alone.get(PAGE + "&lang=en")
    assert "The totals service cannot be reached just now." in english.text
    download = await web_alone.get("/completeness.csv?fy=2568&q=2")
    assert download.status_code == 503
    assert download.text.startswith("ขณะนี้ไม่สามารถดึงข้อมูลจากบริการ สรุปผล ได้")
