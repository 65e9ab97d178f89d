"""A service that does not answer: the page says so, in Thai (and English), never a blank chart
or a 500; the website's own readiness names it without failing."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.utils.apps import serve
from warroom_cli.embedded import free_port
from warroom_web.app import create_app
from warroom_web.settings import WebSettings


async def signed_in(client: httpx.AsyncClient, role: str, area: str = "") -> None:
    form = await client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = await client.post("/signin", data={"csrf": csrf[1], "role": role, "area": area})
    assert answer.status_code == 303, answer.text


async def test_nation_page_says_the_totals_service_is_down(web_alone: httpx.AsyncClient) -> None:
    await signed_in(web_alone, "national_viewer")
    page = await web_alone.get("/?fy=2568&q=2")
    assert page.status_code == 200
    assert "ขณะนี้ไม่สามารถดึงข้อมูลจากบริการ สรุปผล ได้" in page.text
    assert 'data-chart="bar"' not in page.text  # no chart without its numbers
    english = await web_alone.get("/?fy=2568&q=2&lang=en")
    assert "The totals service cannot be reached just now." in english.text
    twin = await web_alone.get("/?fy=2568&q=2&format=json")
    assert twin.json()["sections"]["totals"] == {"unavailable": "aggregator"}


async def test_readiness_names_the_services_that_do_not_answer(
    web_alone: httpx.AsyncClient,
) -> None:
    answer = await web_alone.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["dependencies"] == {
        "api:registry": False, "api:reporting": False, "api:aggregator": False,
        "live:aggregator": False,
    }  # fmt: skip


async def test_pages_allow_scripts_and_styles_from_the_website_only(
    web_alone: httpx.AsyncClient,
) -> None:
    page = await web_alone.get("/signin")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "http" not in csp
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


async def test_the_development_sign_in_refuses_an_unknown_area(
    web_alone: httpx.AsyncClient,
) -> None:
    form = await web_alone.get("/signin?lang=en")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = await web_alone.post(
        "/signin?lang=en", data={"csrf": csrf[1], "role": "district_officer", "area": "9999"}
    )
    assert answer.status_code == 422
    assert "No area has the code 9999" in answer.text
    assert 'href="#area"' in answer.text  # the error summary links to the field


async def test_no_development_sign_in_in_production() -> None:
    settings = WebSettings(
        environment="production", session_secret="s" * 40,
        auth_jwks_url="https://sso.example.go.th/certs", auth_issuer="https://sso.example.go.th",
    )  # fmt: skip
    assert settings.dev_keys() is None
    with pytest.raises(ValueError, match="WARROOM_SESSION_SECRET"):
        WebSettings(
            environment="production", auth_jwks_url="https://sso.example.go.th/certs",
            auth_issuer="https://sso.example.go.th",
        )  # fmt: skip


async def test_the_nation_page_is_public_where_the_operator_made_it_so() -> None:
    down = f"http://127.0.0.1:{free_port()}"
    settings = WebSettings(aggregator_url=down, public_national_totals=True, upstream_timeout=2)
    async with serve(create_app(settings), headers={}) as client:
        nation = await client.get("/?fy=2568&q=2")
        assert nation.status_code == 200  # no sign-in first
        assert "ขณะนี้ไม่สามารถดึงข้อมูลจากบริการ สรุปผล ได้" in nation.text
        province = await client.get("/province/12")
        assert province.status_code == 303  # the rest still needs signing in
        assert province.headers["location"].startswith("/signin?next=")
