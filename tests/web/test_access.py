"""Who sees what, in a real browser: signing in and out, and an officer held to their area on
every page and on the live stream, whatever URL they type."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.web.conftest import Stack, Visit
from warroom_shared.security.principal import AccessRole


async def test_sign_in_and_sign_out(stack: Stack, visit: Visit) -> None:
    page = visit.page
    await page.goto(visit.base + "/?lang=en")
    await expect(page).to_have_url(re.compile(r"/signin\?next="))  # not signed in yet
    await expect(page.get_by_role("heading", level=1)).to_have_text("Development sign-in")
    await page.get_by_label("Role").select_option("province_officer")
    await page.get_by_label("Area code").fill("1201")  # a district: not a province's code
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Enter a 2-digit code")
    await visit.screenshot("signin-error")
    await page.get_by_label("Area code").fill("12")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/province/12"))  # an officer lands on their area
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Nonthaburi")
    await expect(page.get_by_text("Signed in as Province officer 12")).to_be_visible()
    cookie = next(c for c in await visit.context.cookies() if c["name"] == "warroom_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    await visit.screenshot("province")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/signin$"))
    await page.goto(visit.base + "/province/12")
    await expect(page).to_have_url(re.compile(r"/signin\?next="))


async def test_a_form_without_its_csrf_token_is_refused(stack: Stack, visit: Visit) -> None:
    await visit.page.goto(visit.base + "/signin")
    answer = await visit.context.request.post(
        visit.base + "/signin", form={"role": "admin", "area": "", "csrf": "forged"}
    )
    assert answer.status == 403
    assert (await answer.json())["error"]["code"] == "csrf"


async def test_district_officer_cannot_reach_another_districts_numbers(
    stack: Stack, visit: Visit
) -> None:
    await visit.sign_in(AccessRole.DISTRICT_OFFICER, "1201")
    page = visit.page
    await expect(page).to_have_url(re.compile(r"/district/1201\?lang=en$"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Mueang Nonthaburi")
    await visit.screenshot("district")
    for elsewhere in ("/district/1202", "/province/12", "/province/10", "/district/1001"):
        answer = await page.goto(f"{visit.base}{elsewhere}?fy=2568&q=2&lang=en")
        assert answer is not None
        assert answer.status == 403, elsewhere
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "You may not see this area's figures"
        )
        await expect(page.locator("#live-reports")).to_have_count(0)
    await visit.screenshot("forbidden")
    twin = await visit.context.request.get(f"{visit.base}/district/1202?format=json")
    assert twin.status == 403
    live = await visit.context.request.get(
        f"{visit.base}/live?scope=district&code=1202&fy=2568&q=2"
    )
    assert live.status == 403
    answer = await page.goto(visit.base + "/")  # the nation: back to their own district
    await expect(page).to_have_url(re.compile(r"/district/1201$"))
