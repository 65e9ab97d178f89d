from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.utils.apps import serve
from warroom_registry.app import create_app
from warroom_registry.prepare import prepare
from warroom_registry.settings import RegistrySettings


@pytest.fixture
async def registry_settings(database_url: str, nats_url: str) -> RegistrySettings:
    settings = RegistrySettings(database_url=database_url, nats_url=nats_url)
    await prepare(settings)
    return settings


@pytest.fixture
async def registry(registry_settings: RegistrySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(registry_settings)) as client:
        yield client
