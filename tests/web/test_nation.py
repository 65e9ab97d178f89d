"""The nation page in a real browser: the headline count, the map of the 77 provinces, the live
count moving when a report is posted, keyboard use and no serious accessibility violation."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import Page, expect

from tests.utils.factories import report
from tests.web.conftest import Stack, Visit
from warroom_shared.security.principal import AccessRole

NATION = "/?fy=2568&q=2"  # the factory's reports are of 14 February 2025: FY 2568 Q2
PERIOD = {"fiscal_year": 2568, "quarter": 2}


async def posted(stack: Stack, count: int) -> int:
    """`count` reports posted through the reporting API and counted; the nation's total."""
    before = (await stack.aggregator.get("/v1/totals", params=PERIOD)).json()["reports"]
    for _ in range(count):
        assert (await stack.reporting.post("/v1/reports", json=report())).status_code == 201
    async with asyncio.timeout(20):
        while (await stack.aggregator.get("/v1/totals", params=PERIOD)).json()[
            "reports"
        ] != before + count:
            await asyncio.sleep(0.05)
    return before + count


async def map_fills(page: Page) -> list[str]:
    """The fill of every shape the map drew (SVG), once it has drawn."""
    chart = page.locator("[data-chart=map]")
    await expect(chart).to_have_attribute("data-ready", "true")
    fills: list[str] = await chart.locator("svg path").evaluate_all(
        "paths => paths.map(p => p.getAttribute('fill'))"
    )
    return fills


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core (shipped with the website, loaded from it: the CSP allows nothing else)."""
    await page.add_script_tag(url="/static/vendor/axe.min.js")
    results = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def test_nation_page_shows_the_count_and_77_filled_provinces(
    stack: Stack, visit: Visit
) -> None:
    await posted(stack, 3)
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + NATION)
    await expect(page.get_by_role("heading", level=1)).to_have_text("ประเทศไทย")
    await expect(page.locator("#live-reports")).to_have_text("3")
    fills = await map_fills(page)
    # Every province is drawn in the colour ramp of its count (Nonthaburi's 3 the darkest),
    # none in the no-data grey; the legend's own shapes are black or gradients.
    ramp = [f for f in fills if re.fullmatch(r"rgb\((?!0,0,0\)).*\)", f or "")]
    assert len(ramp) == 77, fills
    assert "#f3f2f1" not in fills
    await expect(page.get_by_text("OCHA COD-AB Thailand")).to_have_count(2)  # map and footer
    await page.get_by_text("ดูเป็นตาราง").first.click()
    await expect(page.get_by_role("row", name=re.compile("นนทบุรี"))).to_contain_text("3")
    await visit.screenshot("nation")
    await page.set_viewport_size({"width": 360, "height": 800})
    await expect(page.locator("#live-reports")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, "the page scrolls sideways at 360 px"
    await visit.screenshot("nation-360px")


async def test_live_count_rises_without_reload(stack: Stack, visit: Visit) -> None:
    total = await posted(stack, 1)
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + NATION)
    counter = page.locator("#live-reports")
    await expect(counter).to_have_text(str(total))
    await page.evaluate("window.notReloaded = true")
    await expect(page.locator(".live-time")).not_to_be_empty()  # the stream is open
    assert (await stack.reporting.post("/v1/reports", json=report())).status_code == 201
    await expect(counter).to_have_text(str(total + 1), timeout=2000)
    assert await page.evaluate("window.notReloaded") is True


async def test_nation_page_in_english_has_no_serious_accessibility_violation(
    stack: Stack, visit: Visit
) -> None:
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + NATION + "&lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thailand")
    await expect(page.get_by_text("Reports this quarter")).to_be_visible()
    await map_fills(page)
    assert await serious_violations(page) == []
    await visit.screenshot("nation-en")


async def test_sign_in_page_has_no_serious_accessibility_violation(visit: Visit) -> None:
    await visit.page.goto(visit.base + "/signin")
    assert await serious_violations(visit.page) == []
    await visit.screenshot("signin")


async def test_keyboard_alone_signs_in_and_picks_a_quarter(visit: Visit) -> None:
    page = visit.page
    await page.goto(visit.base + "/signin?lang=en")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Role")).to_be_focused()
    await page.get_by_label("Role").select_option("national_viewer")  # what arrow keys do
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Area code")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thailand")
    await page.get_by_label("Fiscal year (Buddhist Era)").focus()
    await page.get_by_label("Fiscal year (Buddhist Era)").select_option("2568")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Quarter", exact=True)).to_be_focused()
    await page.get_by_label("Quarter", exact=True).select_option("2")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Show")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"fy=2568&q=2"))
    await expect(page.get_by_text("Fiscal year 2568, quarter 2")).to_be_visible()


async def test_clicking_the_map_drills_down_to_the_province_then_the_district(
    stack: Stack, visit: Visit
) -> None:
    await posted(stack, 1)
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + NATION)
    await map_fills(page)
    darkest = page.locator("[data-chart=map] svg path[fill='rgb(0,48,120)']")  # Nonthaburi
    await expect(darkest).to_have_count(1)
    await darkest.click()
    await expect(page).to_have_url(re.compile(r"/province/12\?fy=2568&q=2$"))  # the same quarter
    await expect(page.get_by_role("heading", level=1)).to_have_text("จังหวัดนนทบุรี")
    await map_fills(page)
    # a province's districts are few: each has its name written on it, where a user clicks
    await page.locator("[data-chart=map] svg text", has_text="เมืองนนทบุรี").click()
    await expect(page).to_have_url(re.compile(r"/district/1201\?fy=2568&q=2$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("อำเภอเมืองนนทบุรี")


async def test_printed_the_page_keeps_the_figures_and_tables_and_drops_the_controls(
    stack: Stack, visit: Visit
) -> None:
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + NATION + "&lang=en")
    await map_fills(page)
    await page.emulate_media(media="print")
    await expect(page.locator("#live-reports")).to_be_visible()
    await expect(page.get_by_role("button", name="Show")).to_be_hidden()
    await expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    table = page.get_by_role("table", name="Reports by province")
    await expect(table).to_be_visible()  # the tables print open, without a click
    pdf = await page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
