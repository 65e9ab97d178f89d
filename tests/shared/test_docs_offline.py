"""`/docs` works on a network without internet: Swagger UI's script and styles come from the
service itself, the page names no other host, and its Content-Security-Policy allows scripts and
styles from the service only. Served by a real uvicorn on loopback; a connection anywhere else
fails the test."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.observability.conftest import value
from tests.utils.apps import live_server, serve
from tests.utils.auth import bearer
from warroom_shared.security.principal import AccessRole
from warroom_shared.service import service_app
from warroom_shared.settings import WarroomSettings

KINDS = {  # what the page loads -> the media type it must answer with
    "script": "text/javascript",
    "stylesheet": "text/css",
    "icon": "image/png",
}


class References(HTMLParser):
    """The URLs a page loads (scripts, stylesheets, icon) and the text of its script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (kind, url)
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._in_script = True
            if found.get("src"):
                self.urls.append(("script", found["src"] or ""))
        if tag == "link" and found.get("href"):
            self.urls.append((found.get("rel") or "", found["href"] or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection this process opens must go to loopback; the others are refused and
    listed (the assets must not be fetched from anywhere by the service either)."""
    elsewhere: list[Any] = []
    connect = socket.socket.connect

    def connect_loopback(sock: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host).is_loopback:
            elsewhere.append(address)
            raise ConnectionRefusedError(f"no network beyond loopback: {address}")
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect_loopback)
    return elsewhere


@contextlib.asynccontextmanager
async def _nothing_to_open(_: FastAPI) -> AsyncIterator[None]:
    yield


def _app(rate_limit: str = "1000/minute") -> FastAPI:
    return service_app("docs", "", _nothing_to_open, WarroomSettings(rate_limit=rate_limit), [])


async def test_docs_page_and_every_asset_come_from_the_service_itself(
    loopback_only: list[Any],
) -> None:
    async with live_server(_app()) as base, httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/docs")
        references = References()
        references.feed(page.text)
        assets = {url: await client.get(urljoin(f"{base}/docs", url)) for _, url in references.urls}
        document = await client.get(
            re.search(r'data-openapi-url="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        )

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert not re.search(r"(https?:)?//", page.text)  # no host named, not even the service's own
    assert references.inline == []
    assert sorted(kind for kind, _ in references.urls) == ["icon", "script", "script", "stylesheet"]
    for kind, url in references.urls:
        assert urlsplit(url)[:2] == ("", ""), url  # same origin
        assert assets[url].status_code == 200, url
        assert assets[url].headers["content-type"].split(";")[0] == KINDS[kind], url
    bundle, init = (url for kind, url in references.urls if kind == "script")
    assert "SwaggerUIBundle" in assets[bundle].text
    assert "SwaggerUIBundle(" in assets[init].text
    assert ".swagger-ui" in assets["/docs/swagger-ui.css"].text
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "CAST War Room — docs"
    assert loopback_only == []


async def test_docs_allow_scripts_and_styles_from_the_service_only() -> None:
    async with serve(_app(), headers={}) as client:
        answers = [await client.get("/docs"), await client.get("/docs/swagger-ui-bundle.js")]

    for answer in answers:
        policy = dict(
            part.strip().split(" ", 1)
            for part in answer.headers["content-security-policy"].split(";")
        )
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["default-src"] == "'none'"
        assert "http" not in answer.headers["content-security-policy"]


async def test_docs_assets_are_public_rate_limited_and_counted_by_path() -> None:
    assets = ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/favicon.png",
              "/docs/swagger-ui-init.js"]  # fmt: skip
    async with serve(_app("4/minute"), headers={}) as client:
        first = [await client.get(path) for path in assets]
        refused = await client.get("/docs/swagger-ui.css")
        metrics = await client.get("/metrics", headers=bearer(AccessRole.MONITOR))
    async with serve(_app(), headers={}) as client:
        unknown = await client.get("/docs/swagger-ui.js")

    assert [a.status_code for a in first] == [200, 200, 200, 200]  # no token needed
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert metrics.status_code == 200
    for path in assets:
        assert value(metrics.text, "warroom_http_requests_total",
                     method="GET", route=path, status="200") == 1  # fmt: skip
    assert unknown.status_code == 404
