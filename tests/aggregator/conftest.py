from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from tests.aggregator.helpers import eventually
from tests.utils.apps import serve
from warroom_aggregator import SCHEMA
from warroom_aggregator.app import create_app
from warroom_aggregator.consumer import Consumer
from warroom_aggregator.prepare import prepare
from warroom_aggregator.settings import AggregatorSettings
from warroom_registry.prepare import prepare as prepare_registry
from warroom_registry.settings import RegistrySettings
from warroom_shared import db


@pytest.fixture
async def settings(database_url: str, nats_url: str) -> AggregatorSettings:
    """Short waits so redeliveries, retries and live updates happen within a test's time."""
    settings = AggregatorSettings(
        database_url=database_url,
        nats_url=nats_url,
        fetch_timeout=0.2,
        ack_wait=1.5,
        retry_delay=0.05,
        publish_interval=0.05,
        stream_interval=0.05,
    )
    await prepare(settings)
    return settings


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, SCHEMA)
    yield pool
    await pool.close()


@pytest.fixture
def js(nc: NATS) -> JetStreamContext:
    return nc.jetstream()


@pytest.fixture
def consumer(pool: asyncpg.Pool, nc: NATS, settings: AggregatorSettings) -> Consumer:
    return Consumer(pool, nc, settings)


@pytest.fixture
async def directory(database_url: str, nats_url: str) -> None:
    """The registry's district directory in its KV bucket, as in a running platform."""
    await prepare_registry(RegistrySettings(database_url=database_url, nats_url=nats_url))


@pytest.fixture
async def aggregator(settings: AggregatorSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings)) as client:
        yield client


@pytest.fixture
async def directory_loaded(directory: None, aggregator: httpx.AsyncClient) -> None:
    """The app has read the directory (its watcher runs in the background)."""
    await eventually(
        lambda: aggregator.get("/v1/completeness?fiscal_year=2568&quarter=1"),
        lambda response: response.status_code == 200,
    )
