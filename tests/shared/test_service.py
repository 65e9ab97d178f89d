"""What `service_app` gives every service, beyond the routes tested with each service."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI

from tests.utils.apps import serve
from warroom_reporting.settings import ReportingSettings
from warroom_shared.service import service_app


async def test_what_the_lifespan_loads_is_frozen_out_of_the_collectors_reach() -> None:
    loaded: list[object] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded.extend({"district": str(i)} for i in range(10_000))  # a directory's worth
        yield

    app = service_app("test", "A service with no routes of its own.", lifespan,
                      ReportingSettings(), [])  # fmt: skip
    assert gc.get_freeze_count() == 0
    async with serve(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert gc.get_freeze_count() >= len(loaded)
    assert gc.get_freeze_count() == 0
