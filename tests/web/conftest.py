"""The whole platform on real servers for the browser: registry, reporting and aggregator on
their own ports (real PostgreSQL and NATS), the website beside them, and headless Chromium (the
Debian package, `make browser`) that may reach nothing but this machine."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright, expect

from tests.utils.apps import Platform, live_server, serve
from tests.utils.auth import bearer
from warroom_aggregator.app import create_app as create_aggregator
from warroom_cli.embedded import free_port
from warroom_registry.app import create_app as create_registry
from warroom_reporting.app import create_app as create_reporting
from warroom_shared.security.principal import AccessRole
from warroom_web.app import create_app as create_web
from warroom_web.settings import WebSettings

CHROMIUM = os.environ.get("WARROOM_CHROMIUM", "/usr/bin/chromium")
# Every service and the browser share the machine's cores with the rest of the suite: a page that
# calls the three APIs can take seconds to arrive there, so waits are longer than Playwright's 5 s
# (a timing the issue states, as the live count's 2 s, is asserted with its own timeout).
expect.set_options(timeout=15_000)
SCREENSHOTS = Path(__file__).parents[2] / "test-results" / "screenshots"
LOOPBACK = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/")


@dataclass
class Stack:
    web: str  # the website's base URL
    registry: httpx.AsyncClient
    reporting: httpx.AsyncClient
    aggregator: httpx.AsyncClient


@pytest.fixture
async def stack(platform: Platform) -> AsyncIterator[Stack]:
    """Every service on a real socket, with short intervals so live figures move at once."""
    aggregator = platform.aggregator.model_copy(
        update={"publish_interval": 0.05, "stream_interval": 0.05}
    )
    async with (
        live_server(create_registry(platform.registry)) as registry_url,
        live_server(create_reporting(platform.reporting)) as reporting_url,
        live_server(create_aggregator(aggregator)) as aggregator_url,
    ):
        settings = WebSettings(
            registry_url=registry_url, reporting_url=reporting_url,
            aggregator_url=aggregator_url, live_interval=0.05,
        )  # fmt: skip
        async with (
            live_server(create_web(settings)) as web_url,
            httpx.AsyncClient(base_url=registry_url, headers=bearer()) as registry,
            httpx.AsyncClient(base_url=reporting_url, headers=bearer()) as reporting,
            httpx.AsyncClient(base_url=aggregator_url, headers=bearer()) as totals,
        ):
            await directory_loaded(totals)
            yield Stack(web_url, registry, reporting, totals)


async def directory_loaded(aggregator: httpx.AsyncClient) -> None:
    async with asyncio.timeout(30):
        while (
            await aggregator.get("/v1/completeness?fiscal_year=2568&quarter=2")
        ).status_code != 200:
            await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"],
        )  # fmt: skip
        yield browser
        await browser.close()


@dataclass
class Visit:
    """A browser context whose every request is checked to be for this machine."""

    context: BrowserContext
    page: Page
    base: str
    elsewhere: list[str] = field(default_factory=list)

    async def sign_in(self, role: AccessRole, area: str = "") -> None:
        page = self.page
        await page.goto(f"{self.base}/signin?lang=en")
        await page.get_by_label("Role").select_option(role.value)
        await page.get_by_label("Area code").fill(area)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_load_state()

    async def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@contextlib.asynccontextmanager
async def visiting(browser: Browser, base: str, **options: Any) -> AsyncIterator[Visit]:
    """A new browser context on the site at `base`; on leaving, it must have asked for nothing
    beyond this machine."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    visit = Visit(context, await context.new_page(), base)

    async def only_loopback(route: Route) -> None:
        if LOOPBACK.match(route.request.url):
            await route.continue_()
        else:
            visit.elsewhere.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_loopback)
    try:
        yield visit
    finally:
        await context.close()
    assert visit.elsewhere == [], f"the page reached beyond this machine: {visit.elsewhere}"


@pytest.fixture
async def visit(browser: Browser, stack: Stack) -> AsyncIterator[Visit]:
    async with visiting(browser, stack.web, locale="th-TH") as visit:
        yield visit


@pytest.fixture
async def web_alone() -> AsyncIterator[httpx.AsyncClient]:
    """The website with no service behind it (nothing listens on their ports)."""
    down = f"http://127.0.0.1:{free_port()}"
    settings = WebSettings(
        registry_url=down, reporting_url=down, aggregator_url=down, upstream_timeout=2
    )
    async with serve(create_web(settings), headers={}) as client:
        yield client
