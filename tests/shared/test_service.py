"""What `service_app` gives every service, beyond the routes tested with each service."""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI

from tests.utils.apps import serve
from warroom_reporting.settings import ReportingSettings
from warroom_shared.jsonbody import StrictJSONRoute
from warroom_shared.security.access import PUBLIC
from warroom_shared.service import YOUNG_GENERATION, service_app
from warroom_shared.settings import WarroomSettings


async def test_what_the_lifespan_loads_is_frozen_out_of_the_collectors_reach() -> None:
    loaded: list[object] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded.extend({"district": str(i)} for i in range(10_000))  # a directory's worth
        yield

    app = service_app("test", "A service with no routes of its own.", lifespan,
                      ReportingSettings(), [])  # fmt: skip
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    async with serve(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert gc.get_freeze_count() >= len(loaded)
        assert gc.get_threshold() == (YOUNG_GENERATION, *before[1:])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


@contextlib.asynccontextmanager
async def _nothing_to_open(_: FastAPI) -> AsyncIterator[None]:
    yield


async def _in_pieces(body: bytes) -> AsyncIterator[bytes]:
    """Sent chunked: no Content-Length ahead of the body."""
    for start in range(0, len(body), 16):
        yield body[start : start + 16]


async def test_body_beyond_the_limit_answers_413_whether_its_length_is_sent_or_not() -> None:
    echo = APIRouter(route_class=StrictJSONRoute)

    @echo.post("/echo")
    async def post_echo(
        _: Annotated[None, Depends(PUBLIC)], body: dict[str, int]
    ) -> dict[str, int]:
        return body

    app = service_app("test", "", _nothing_to_open, WarroomSettings(max_body_bytes=100), [echo])
    small = json.dumps({"a": 1}).encode()
    big = json.dumps({f"key{i}": i for i in range(20)}).encode()
    async with serve(app, headers={"Content-Type": "application/json"}) as client:
        answers = [
            await client.post("/echo", content=body)
            for body in (small, _in_pieces(small), big, _in_pieces(big))
        ]

    assert [a.status_code for a in answers] == [200, 200, 413, 413]
    assert answers[1].json() == {"a": 1}
    assert answers[3].json()["error"]["code"] == "body_too_large"
