from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NATS

from tests.utils.apps import serve
from warroom_reporting.app import create_app
from warroom_reporting.settings import ReportingSettings
from warroom_shared.events import DesignatedVillage, DirectoryDistrict
from warroom_shared.messaging import DISTRICTS_BUCKET

# Changes a district's directory entry as the registry publishes it (`in_programme`,
# `designated_villages`, ...) and returns once the running reporting service reads it so.
SetEntry = Callable[..., Awaitable[DirectoryDistrict]]


@pytest.fixture
def reporting_app(reporting_settings: ReportingSettings) -> FastAPI:
    return create_app(reporting_settings)


@pytest.fixture
async def reporting(reporting_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(reporting_app) as client:
        await asyncio.wait_for(reporting_app.state.directory.ready.wait(), 10)
        yield client


@pytest.fixture
async def directory_entry(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, nc: NATS
) -> SetEntry:
    kv = await nc.jetstream().key_value(DISTRICTS_BUCKET.bucket)

    async def put(code: str, **changes: Any) -> DirectoryDistrict:
        current = DirectoryDistrict.model_validate_json((await kv.get(code)).value)
        entry = current.model_copy(update=changes)
        await kv.put(code, entry.model_dump_json().encode())
        async with asyncio.timeout(10):
            while reporting_app.state.directory.get(code) != entry:
                await asyncio.sleep(0.01)
        return entry

    return put


@pytest.fixture
async def designate(directory_entry: SetEntry) -> Callable[..., Awaitable[None]]:
    """Designate Sustainable Villages of one fiscal year: `(subdistrict, village_no)` pairs."""

    async def villages(district: str, fiscal_year: int, *places: tuple[str, int]) -> None:
        chosen = [DesignatedVillage(subdistrict_code=s, village_no=n, name=f"บ้าน {n}")
                  for s, n in places]  # fmt: skip
        await directory_entry(district, designated_villages={fiscal_year: chosen})

    return villages
