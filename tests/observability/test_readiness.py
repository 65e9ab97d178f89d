"""`/readyz` of every service on real servers: ready when its database, NATS, streams and
consumers are there; 503 naming what is missing when the database or NATS is unreachable; ready
again once they are back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

import warroom_aggregator.prepare
import warroom_registry.prepare
import warroom_reporting.prepare
from tests.utils.apps import serve
from warroom_aggregator.app import create_app as create_aggregator
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from warroom_registry.app import create_app as create_registry
from warroom_registry.settings import RegistrySettings
from warroom_reporting.app import create_app as create_reporting
from warroom_reporting.settings import ReportingSettings

SERVICES: dict[str, tuple[Callable[[Any], FastAPI], type[Any]]] = {
    "registry": (create_registry, RegistrySettings),
    "reporting": (create_reporting, ReportingSettings),
    "aggregator": (create_aggregator, AggregatorSettings),
}
CHECKS = {
    "registry": {"database", "nats", "stream:REGISTRY", "stream:KV_warroom_districts"},
    "reporting": {"database", "nats", "stream:REPORTS", "stream:KV_warroom_districts"},
    "aggregator": {
        "database", "nats", "stream:REPORTS", "stream:AGGREGATOR_DEADLETTER",
        "stream:KV_warroom_districts", "consumer:REPORTS/aggregator",
    },
}  # fmt: skip


async def prepare_all(database_url: str, nats_url: str) -> None:
    urls = {"database_url": database_url, "nats_url": nats_url}
    await warroom_registry.prepare.prepare(RegistrySettings(**urls))
    await warroom_reporting.prepare.prepare(ReportingSettings(**urls))
    await warroom_aggregator.prepare.prepare(AggregatorSettings(**urls))


async def ready_within(
    client: httpx.AsyncClient, want: int, check: str | None = None, timeout: float = 15
) -> httpx.Response:
    """/readyz until it answers `want` (and, when given, with `check` failed or passed to
    match): NATS reconnects every second, a pool on next use, and a client notices a lost
    connection when it next reads from it."""
    async with asyncio.timeout(timeout):
        while True:
            answer = await client.get("/readyz")
            if answer.status_code == want and (
                check is None or answer.json()["checks"][check] is (want == 200)
            ):
                return answer
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("service", list(SERVICES))
async def test_readyz_is_503_while_the_database_is_unreachable(
    service: str, database_url: str, nats_url: str, postgres_server: EmbeddedPostgres
) -> None:
    await prepare_all(database_url, nats_url)
    factory, settings = SERVICES[service]
    app = factory(settings(database_url=database_url, nats_url=nats_url))
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        async with serve(app, headers={}) as client:
            ready = await ready_within(client, 200)
            # The database refuses new connections and drops the service's open ones.
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                name,
            )
            down = await ready_within(client, 503, "database")
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            back = await ready_within(client, 200)
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()

    assert ready.json() == {"status": "ready", "checks": dict.fromkeys(CHECKS[service], True)}
    assert down.json()["status"] == "not_ready"
    assert down.json()["checks"]["database"] is False
    assert down.json()["checks"]["nats"] is True
    assert back.json()["status"] == "ready"


@pytest.mark.parametrize("service", list(SERVICES))
async def test_readyz_is_503_while_nats_is_unreachable(
    service: str, database_url: str, tmp_path: Path
) -> None:
    nats_server = EmbeddedNats(tmp_path / "nats", free_port())  # this test's own, to stop
    nats_server.start()
    try:
        await prepare_all(database_url, nats_server.url)
        factory, settings = SERVICES[service]
        app = factory(settings(database_url=database_url, nats_url=nats_server.url))
        async with serve(app, headers={}) as client:
            ready = await ready_within(client, 200)
            nats_server.stop()
            down = await ready_within(client, 503, "nats")
            nats_server.start()  # the same store: the streams are back with it
            back = await ready_within(client, 200)
    finally:
        nats_server.stop()

    assert set(ready.json()["checks"]) == CHECKS[service]
    assert down.json()["checks"]["nats"] is False
    assert down.json()["checks"]["database"] is True
    streams = [name for name in CHECKS[service] if name.startswith(("stream:", "consumer:"))]
    assert all(down.json()["checks"][name] is False for name in streams)
    assert back.json() == {"status": "ready", "checks": dict.fromkeys(CHECKS[service], True)}


async def test_readyz_is_503_while_a_stream_is_missing(database_url: str, nats_url: str) -> None:
    """Ready needs the streams too: before `prepare` created them, reporting is not ready."""
    app = create_reporting(ReportingSettings(database_url=database_url, nats_url=nats_url))
    async with serve(app, headers={}) as client:
        missing = await client.get("/readyz")
        await prepare_all(database_url, nats_url)
        ready = await ready_within(client, 200)

    assert missing.status_code == 503
    assert missing.json()["checks"]["stream:REPORTS"] is False
    assert missing.json()["checks"]["database"] is True
    assert ready.json()["status"] == "ready"
