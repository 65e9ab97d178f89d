"""Signing in with an identity provider (OpenID Connect, code flow with PKCE) against a small
provider of the suite's own on a real socket: the whole platform trusts its keys and issuer, as
it would Keycloak's. One browser test walks the user's way in and out; the rest is HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, expect

from tests.utils.apps import Platform, live_server, serve
from tests.utils.factories import report
from tests.utils.oidc_provider import ROLE_CLAIM, Account, Provider, running
from tests.web.conftest import directory_loaded, visiting
from warroom_aggregator.app import create_app as create_aggregator
from warroom_cli.embedded import free_port
from warroom_registry.app import create_app as create_registry
from warroom_reporting.app import create_app as create_reporting
from warroom_web import oidc
from warroom_web.app import create_app as create_web
from warroom_web.devauth import local_path
from warroom_web.settings import WebSettings

PERIOD = {"fiscal_year": 2568, "quarter": 2}  # the factory's reports: 14 February 2025
LIVE_SECRET = "live-" + "s" * 32


@pytest.fixture
async def idp() -> AsyncIterator[Provider]:
    provider = Provider(
        clients={"warroom": None, "warroom-live": LIVE_SECRET},  # the website's client: public
        accounts={
            "somchai": Account("district_officer", "1201"),
            "anan": Account("national_viewer"),
            "nobody": Account("visitor"),  # signed in at the provider, no War Room role
        },
        service_accounts={"warroom-live": Account("monitor")},
    )
    async with running(provider):
        yield provider


def trusting(settings: Any, idp: Provider) -> Any:
    """A service's settings pointed at the provider, as the README's Keycloak settings do."""
    return settings.model_copy(update={
        "auth_jwks_url": f"{idp.issuer}/certs", "auth_jwks_file": None,
        "auth_issuer": idp.issuer, "auth_role_claim": ROLE_CLAIM,
    })  # fmt: skip


@dataclass
class Site:
    web: str
    app: FastAPI
    settings: WebSettings
    reporting: httpx.AsyncClient
    aggregator: httpx.AsyncClient


@contextlib.asynccontextmanager
async def site(platform: Platform, idp: Provider, margin: float = 60.0) -> AsyncIterator[Site]:
    aggregator = platform.aggregator.model_copy(
        update={"publish_interval": 0.05, "stream_interval": 0.05}
    )
    async with (
        live_server(create_registry(trusting(platform.registry, idp))) as registry_url,
        live_server(create_reporting(trusting(platform.reporting, idp))) as reporting_url,
        live_server(create_aggregator(trusting(aggregator, idp))) as aggregator_url,
    ):
        settings = trusting(WebSettings(
            registry_url=registry_url, reporting_url=reporting_url,
            aggregator_url=aggregator_url, live_interval=0.05, oidc_issuer=idp.issuer,
            live_client_id="warroom-live", live_client_secret=LIVE_SECRET,
            token_refresh_margin=margin,
        ), idp)  # fmt: skip
        app = create_web(settings)
        admin = {"Authorization": f"Bearer {idp.token('admin')}"}
        async with (
            live_server(app) as web_url,
            httpx.AsyncClient(base_url=reporting_url, headers=admin) as reporting,
            httpx.AsyncClient(base_url=aggregator_url, headers=admin) as totals,
        ):
            await directory_loaded(totals)
            yield Site(web_url, app, settings, reporting, totals)


def users_grants(idp: Provider) -> list[str]:
    """The token requests of users' sign-ins (not the live stream's client credentials)."""
    return [grant for grant in idp.grants if grant != "client_credentials"]


async def to_provider(web: httpx.AsyncClient, next: str = "") -> dict[str, str]:
    """The website's redirect to the provider: the authorization request's parameters."""
    start = await web.get("/signin/oidc", params={"next": next, "lang": "en"})
    assert start.status_code == 302
    return dict(parse_qsl(urlsplit(start.headers["location"]).query))


async def at_provider(web: httpx.AsyncClient, idp: Provider, params: dict[str, str],
                      username: str, decision: str = "allow") -> str:  # fmt: skip
    """The user signs in at the provider: the address it sends the browser back to."""
    answer = await web.post(
        f"{idp.issuer}/auth", data={**params, "username": username, "decision": decision}
    )
    assert answer.status_code == 302
    return str(answer.headers["location"])


async def signed_in(web: httpx.AsyncClient, idp: Provider, username: str, next: str = "") -> str:
    back = await at_provider(web, idp, await to_provider(web, next), username)
    answer = await web.get(back)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


async def test_officer_signs_in_through_the_provider_lands_on_their_district_and_signs_out(
    browser: Browser, platform: Platform, idp: Provider
) -> None:
    async with site(platform, idp) as s, visiting(browser, s.web) as visit:
        page = visit.page
        await page.goto(s.web + "/?lang=en")
        await expect(page).to_have_url(re.compile(r"/signin\?next="))
        await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        await expect(page.get_by_label("Role")).to_have_count(0)  # no development sign-in
        await visit.screenshot("signin-oidc")
        await page.get_by_role("link", name="Sign in with your organisation's account").click()
        await expect(page.get_by_role("heading", name="Sign in to the ministry")).to_be_visible()
        await page.get_by_label("Username").fill("somchai")
        await page.get_by_role("button", name="Log in").click()
        # Back to the nation it asked for, which sends an officer on to their district.
        await expect(page).to_have_url(re.compile(r"/district/1201\?lang=en$"))
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Mueang Nonthaburi")
        await expect(page.get_by_text("Signed in as District officer 1201")).to_be_visible()
        cookie = next(c for c in await visit.context.cookies() if c["name"] == "warroom_session")
        assert cookie["httpOnly"]
        assert cookie["sameSite"] == "Lax"
        await visit.screenshot("district-oidc")
        await page.get_by_role("button", name="Sign out").click()  # on to the provider and back
        await expect(page).to_have_url(re.compile(r"/signin\?state="))
        assert [(e["client_id"], e["post_logout_redirect_uri"]) for e in idp.logouts] == [
            ("warroom", s.web + "/signin")
        ]
        await page.goto(s.web + "/district/1201")
        await expect(page).to_have_url(re.compile(r"/signin\?next="))


async def test_the_code_needs_the_pkce_verifier_and_the_cookie_stays_small(
    platform: Platform, idp: Provider
) -> None:
    async with site(platform, idp) as s, httpx.AsyncClient(base_url=s.web) as web:
        params = await to_provider(web, next="//elsewhere.example/phish")
        assert params["code_challenge_method"] == "S256"
        assert len(params["code_challenge"]) == 43  # base64url of a SHA-256
        assert "nonce" in params
        assert "code_verifier" not in params
        back = await at_provider(web, idp, params, "somchai")
        code = dict(parse_qsl(urlsplit(back).query))["code"]
        stolen = await web.post(f"{idp.issuer}/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": "warroom",
            "redirect_uri": params["redirect_uri"], "code_verifier": "x" * 64,
        })  # fmt: skip
        assert stolen.status_code == 400  # the code alone, without the verifier, is no use
        assert stolen.json()["error"] == "invalid_grant"
        landed = await web.get(back)  # the website redeems it with its verifier
        assert landed.status_code == 303
        assert landed.headers["location"] == "/district/1201?lang=en"  # not the other site
        assert users_grants(idp) == ["authorization_code"]
        assert (await web.get("/district/1201?fy=2568&q=2")).status_code == 200
        size = len(web.cookies["warroom_session"])
        print(f"session cookie with Keycloak-shaped tokens: {size} bytes")
        assert size < 4000  # browsers drop a cookie past 4096 bytes


def test_a_return_address_stays_on_this_site() -> None:
    assert local_path("/province/12?lang=en") == "/province/12?lang=en"
    for elsewhere in ("https://evil.example", "//evil.example", "/\\evil.example",
                      "/\t/evil.example", "evil", ""):  # fmt: skip
        assert local_path(elsewhere) == "", elsewhere


async def test_a_sign_in_that_went_wrong_says_why(platform: Platform, idp: Provider) -> None:
    async with site(platform, idp) as s, httpx.AsyncClient(base_url=s.web) as web:
        answer = await web.get(await at_provider(web, idp, await to_provider(web), "nobody"))
        assert answer.status_code == 403
        assert "Your account has no War Room role yet" in answer.text
        assert (await web.get("/district/1201")).headers["location"].startswith("/signin")
        back = await at_provider(web, idp, await to_provider(web), "somchai")
        forged = re.sub(r"state=[^&]+", "state=forged", back)
        answer = await web.get(forged)
        assert answer.status_code == 400
        assert "This sign-in expired or was not started in this browser" in answer.text
        assert "Sign in again" in answer.text
        assert (await web.get(back)).status_code == 303  # the genuine answer still signs in
        assert (await web.get(back)).status_code == 400  # once: its state is used up
        denied = await at_provider(web, idp, await to_provider(web), "somchai", "deny")
        answer = await web.get(denied)
        assert answer.status_code == 403
        assert "The identity provider refused, or the sign-in was cancelled." in answer.text
        # A user in many groups, all mapped into the token: too much for a cookie.
        idp.extra_claims = {"groups": [f"/moi/province-{n:02}/district-team" for n in range(99)]}
        answer = await web.get(await at_provider(web, idp, await to_provider(web), "somchai"))
        assert answer.status_code == 502
        assert "tokens are too large for this website" in answer.text
        assert len(answer.headers.get("set-cookie", "")) < 4096  # none that a browser would drop


async def test_the_token_is_refreshed_near_its_expiry_until_the_provider_refuses(
    platform: Platform, idp: Provider
) -> None:
    async with site(platform, idp) as s, httpx.AsyncClient(base_url=s.web) as web:
        assert await signed_in(web, idp, "somchai") == "/district/1201?lang=en"
        first = web.cookies["warroom_session"]
        assert (await web.get("/district/1201")).status_code == 200
        assert users_grants(idp) == ["authorization_code"]  # 300 s left: no refresh yet
        s.settings.token_refresh_margin = idp.access_ttl + 60  # every token is now near its end
        for _ in range(2):
            assert (await web.get("/district/1201")).status_code == 200
        assert users_grants(idp) == ["authorization_code", "refresh_token", "refresh_token"]
        assert web.cookies["warroom_session"] != first
        idp.revoke_refresh_tokens()  # the user's session at the provider ended
        answer = await web.get("/district/1201?fy=2568&q=2")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/signin?next=%2Fdistrict%2F1201%3Ffy%3D2568%26q%3D2"
        assert idp.refused == ["invalid_grant"]
        assert (await web.get("/district/1201")).headers["location"].startswith("/signin")


async def live_count(stream: AsyncIterator[str]) -> int:
    """The next `reports` figure on the website's `/live` stream."""
    event = ""
    async for line in stream:
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "reports":
            return int(line[5:].strip().replace(",", ""))
    raise AssertionError("the stream ended")


async def test_the_live_token_renews_and_the_count_keeps_moving(
    platform: Platform, idp: Provider
) -> None:
    idp.access_ttl = 4  # every token lives 4 s; a new one 2 s before
    async with site(platform, idp, margin=2) as s, httpx.AsyncClient(base_url=s.web) as web:
        await signed_in(web, idp, "anan")
        hub, token = s.app.state.hub, s.app.state.live_token
        live = "/live?scope=national&code=TH&fy=2568&q=2"
        async with web.stream("GET", live, timeout=30) as answer:
            assert answer.status_code == 200
            stream = answer.aiter_lines()
            before = await live_count(stream) if hub.latest(("national", "TH", 2568, 2)) else 0
            for round in range(2):
                renewals = hub.renewals
                async with asyncio.timeout(30):  # a connection ended for its token's sake
                    while hub.renewals == renewals or not hub.connected.is_set():
                        await asyncio.sleep(0.05)
                posted = await s.reporting.post("/v1/reports", json=report())
                assert posted.status_code == 201
                async with asyncio.timeout(30):
                    while await live_count(stream) != before + round + 1:
                        pass
        assert token.renewals >= 3
        assert idp.grants.count("client_credentials") == token.renewals
        # The viewer's own 4-second token is long gone: the next page renews it.
        assert (await web.get("/?fy=2568&q=2")).status_code == 200
        assert users_grants(idp) == ["authorization_code", "refresh_token"]


async def test_the_embedded_default_mints_the_live_token_again_before_it_expires() -> None:
    token = oidc.service_token(WebSettings(token_refresh_margin=60), None)
    assert token is not None  # the suite's development key is at hand
    first, expires = await token()
    assert await token() == (first, expires)  # an hour left: the same token
    claims = jwt.decode(first, options={"verify_signature": False})
    assert claims["warroom_role"] == "monitor"
    assert abs(claims["exp"] - expires) <= 1  # whole seconds in the token
    token.margin = expires - time.time() + 1  # as if its hour were nearly over
    second, _ = await token()
    assert second != first
    assert token.renewals == 2


async def test_an_unreachable_provider_gets_a_clear_page() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with serve(create_web(WebSettings(oidc_issuer=nowhere)), headers={}) as web:
        answer = await web.get("/signin/oidc?lang=en")
        assert answer.status_code == 502
        assert "The identity provider cannot be reached just now" in answer.text


async def test_no_development_sign_in_in_production_only_the_providers(idp: Provider) -> None:
    settings = WebSettings(
        environment="production", session_secret="s" * 40, oidc_issuer=idp.issuer,
        auth_jwks_url=f"{idp.issuer}/certs", auth_issuer=idp.issuer, auth_jwks_file=None,
    )  # fmt: skip
    assert settings.dev_keys() is None
    async with serve(create_web(settings), headers={}) as web:
        page = await web.get("/signin?lang=en&next=/province/12")
        assert page.status_code == 200
        assert "Development sign-in" not in page.text
        assert 'name="role"' not in page.text
        assert 'href="/signin/oidc?next=%2Fprovince%2F12&amp;lang=en"' in page.text
        csp = page.headers["content-security-policy"]
        assert f"form-action 'self' {idp.issuer};" in csp  # sign-out ends at the provider
    with pytest.raises(ValueError, match="WARROOM_LIVE_CLIENT_SECRET"):
        WebSettings(live_client_id="warroom-live", oidc_issuer=idp.issuer)
    with pytest.raises(ValueError, match="not both"):
        WebSettings(oidc_issuer=idp.issuer, live_client_id="warroom-live",
                    live_client_secret=LIVE_SECRET, live_token="a.fixed.token")  # fmt: skip
