"""The three services' public APIs, called with the signed-in user's own token, so their
authorization rules stay the only ones. One HTTP client per replica, shared by every request.

A service that cannot be reached, times out or fails (5xx) raises `Unavailable`; a page shows
that section's message instead of a chart. 403 and 404 raise `Refused` (the page answers it)."""

from __future__ import annotations

import logging
from typing import Any, Literal

import httpx

from warroom_web.settings import WebSettings

log = logging.getLogger(__name__)

ServiceName = Literal["registry", "reporting", "aggregator"]


class Unavailable(Exception):
    """The service did not answer usefully (down, too slow, 5xx)."""

    def __init__(self, service: ServiceName, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service


class Refused(Exception):
    """The service said no: 401 (the session's token is no longer good), 403, 404."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code = status, code


class Upstream:
    def __init__(self, settings: WebSettings) -> None:
        self.urls: dict[ServiceName, str] = {
            "registry": settings.registry_url.rstrip("/"),
            "reporting": settings.reporting_url.rstrip("/"),
            "aggregator": settings.aggregator_url.rstrip("/"),
        }
        self.client = httpx.AsyncClient(
            timeout=settings.upstream_timeout,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )  # fmt: skip

    async def get(self, service: ServiceName, path: str, token: str | None, **params: Any) -> Any:
        """The JSON of a GET; filters that are None are left out."""
        query = {k: v for k, v in params.items() if v is not None}
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self.client.get(
                self.urls[service] + path, params=query, headers=headers
            )
        except httpx.HTTPError as exc:
            log.warning("%s did not answer %s: %r", service, path, exc)
            raise Unavailable(service, type(exc).__name__) from None
        if response.status_code in (401, 403, 404):
            raise Refused(response.status_code, _code(response))
        if response.status_code != 200:
            log.warning("%s answered %s to %s", service, response.status_code, path)
            raise Unavailable(service, f"HTTP {response.status_code}")
        return response.json()

    async def alive(self, service: ServiceName) -> bool:
        """Readiness of a service (for the website's own `/readyz` dependencies)."""
        try:
            response = await self.client.get(self.urls[service] + "/readyz")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def close(self) -> None:
        await self.client.aclose()


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "refused"
