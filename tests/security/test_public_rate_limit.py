"""The routes open to anyone are rate-limited by the caller's address, like anonymous callers
and bad tokens elsewhere: health checks and the API descriptions alike, on the app every service
is built as (`service_app`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from tests.utils.apps import serve
from tests.utils.auth import bearer
from warroom_shared.security.principal import AccessRole
from warroom_shared.service import service_app
from warroom_shared.settings import WarroomSettings

PUBLIC_PATHS = ["/healthz", "/readyz", "/docs", "/openapi.json", "/asyncapi.json"]


@contextlib.asynccontextmanager
async def _nothing_to_open(_: FastAPI) -> AsyncIterator[None]:
    yield


def _app(rate_limit: str) -> FastAPI:
    return service_app("public", "", _nothing_to_open, WarroomSettings(rate_limit=rate_limit), [])


async def test_public_routes_answer_429_once_an_address_used_its_rate_limit() -> None:
    async with serve(_app("3/minute"), headers={}) as client:
        first = [await client.get("/healthz") for _ in range(3)]
        refused = {path: await client.get(path) for path in PUBLIC_PATHS}
        with_a_token = await client.get("/metrics", headers=bearer(AccessRole.MONITOR))

    assert [a.status_code for a in first] == [200, 200, 200]
    assert {path: a.status_code for path, a in refused.items()} == dict.fromkeys(PUBLIC_PATHS, 429)
    for answer in refused.values():
        assert answer.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
        assert answer.headers["x-content-type-options"] == "nosniff"  # inside the other layers
        assert "x-request-id" in answer.headers
    assert with_a_token.status_code == 200  # a token's subject has a bucket of its own


async def test_each_public_route_answers_within_the_limit() -> None:
    async with serve(_app("50/minute"), headers={}) as client:
        answers = {path: await client.get(path) for path in PUBLIC_PATHS}

    # Not ready: this app checks nothing (`/readyz` wants at least one check).
    assert {p: a.status_code for p, a in answers.items()} == {
        "/healthz": 200, "/readyz": 503, "/docs": 200, "/openapi.json": 200, "/asyncapi.json": 200
    }  # fmt: skip
