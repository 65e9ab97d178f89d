from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.utils.apps import serve
from warroom_reporting.app import create_app
from warroom_reporting.settings import ReportingSettings


@pytest.fixture
def reporting_app(reporting_settings: ReportingSettings) -> FastAPI:
    return create_app(reporting_settings)


@pytest.fixture
async def reporting(reporting_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(reporting_app) as client:
        await asyncio.wait_for(reporting_app.state.directory.ready.wait(), 10)
        yield client
