"""`/readyz` and `/healthz` of every service on real servers: about the pod, not what every
replica shares. While the database or NATS is unreachable each pod stays ready and alive (so
that clients get the services' own 503 with Retry-After, not a proxy's errors) and says which
dependency is down, in `/readyz`'s `dependencies` and in `warroom_dependency_up`; a pod is not
ready before what it loads at start is in, and neither ready nor alive once one of its loops
has ended."""

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
from tests.observability.conftest import value
from tests.utils.apps import serve
from tests.utils.auth import bearer
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
POD = {
    "registry": {"lifespan", "loop:relay"},
    "reporting": {
        "lifespan", "loop:directory", "loop:batcher", "loop:relay", "loaded:directory",
    },
    "aggregator": {
        "lifespan", "loop:directory", "loop:consumer", "loop:feed", "loaded:directory",
    },
}  # fmt: skip
DEPENDENCIES = {
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


class Probe:
    """Asks `/readyz` until a condition holds, keeping every answer's status code."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.statuses: set[int] = set()

    async def until(self, want: Callable[[dict[str, Any]], bool], timeout: float = 15) -> Any:
        """NATS reconnects every second, a pool on next use, and a client notices a lost
        connection when it next reads from it."""
        async with asyncio.timeout(timeout):
            while True:
                answer = await self.client.get("/readyz")
                self.statuses.add(answer.status_code)
                if want(answer.json()):
                    return answer.json()
                await asyncio.sleep(0.05)

    async def dependency(self, name: str, up: bool) -> Any:
        return await self.until(lambda body: body["dependencies"].get(name) is up)

    async def all_up(self) -> Any:
        return await self.until(
            lambda body: body["status"] == "ready" and all(body["dependencies"].values())
        )


async def dependency_up(client: httpx.AsyncClient, name: str) -> float | None:
    metrics = await client.get("/metrics", headers=bearer())
    return value(metrics.text, "warroom_dependency_up", dependency=name)


def all_true(names: set[str]) -> dict[str, bool]:
    return dict.fromkeys(names, True)


@pytest.mark.parametrize("service", list(SERVICES))
async def test_readyz_stays_200_while_the_database_is_unreachable(
    service: str, database_url: str, nats_url: str, postgres_server: EmbeddedPostgres
) -> None:
    await prepare_all(database_url, nats_url)
    factory, settings = SERVICES[service]
    app = factory(settings(database_url=database_url, nats_url=nats_url))
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        async with serve(app, headers={}) as client:
            probe = Probe(client)
            ready = await probe.all_up()
            probe.statuses.clear()  # from here on, every answer counts
            # The database refuses new connections and drops the service's open ones.
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                name,
            )
            down = await probe.dependency("database", up=False)
            down_figure = await dependency_up(client, "database")
            alive = await client.get("/healthz")
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            back = await probe.all_up()
            back_figure = await dependency_up(client, "database")
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()

    assert probe.statuses == {200}
    assert ready == {
        "status": "ready",
        "checks": all_true(POD[service]),
        "dependencies": all_true(DEPENDENCIES[service]),
    }
    assert down["status"] == "ready"
    assert down["dependencies"]["nats"] is True
    assert (down_figure, back_figure) == (0, 1)
    assert alive.status_code == 200
    assert back["dependencies"] == all_true(DEPENDENCIES[service])


@pytest.mark.parametrize("service", list(SERVICES))
async def test_readyz_stays_200_while_nats_is_unreachable(
    service: str, database_url: str, tmp_path: Path
) -> None:
    nats_server = EmbeddedNats(tmp_path / "nats", free_port())  # this test's own, to stop
    nats_server.start()
    try:
        await prepare_all(database_url, nats_server.url)
        factory, settings = SERVICES[service]
        app = factory(settings(database_url=database_url, nats_url=nats_server.url))
        async with serve(app, headers={}) as client:
            probe = Probe(client)
            await probe.all_up()
            probe.statuses.clear()  # from here on, every answer counts
            nats_server.stop()
            down = await probe.dependency("nats", up=False)
            down_figure = await dependency_up(client, "nats")
            alive = await client.get("/healthz")
            nats_server.start()  # the same store: the streams are back with it
            back = await probe.all_up()
    finally:
        nats_server.stop()

    assert probe.statuses == {200}
    assert down["status"] == "ready"
    assert down["checks"] == all_true(POD[service])
    assert down["dependencies"]["database"] is True
    streams = [name for name in DEPENDENCIES[service] if name.startswith(("stream:", "consumer:"))]
    assert all(down["dependencies"][name] is False for name in streams)
    assert down_figure == 0
    assert alive.status_code == 200
    assert back["dependencies"] == all_true(DEPENDENCIES[service])


async def test_readyz_is_503_until_the_directory_is_loaded(
    database_url: str, nats_url: str
) -> None:
    """Before `prepare` made the streams and the registry published the district directory,
    a reporting pod cannot check a report's district: not ready, and it says why."""
    app = create_reporting(ReportingSettings(database_url=database_url, nats_url=nats_url))
    async with serve(app, headers={}) as client:
        missing = await client.get("/readyz")
        await prepare_all(database_url, nats_url)
        ready = await Probe(client).until(lambda body: body["status"] == "ready")

    assert missing.status_code == 503
    assert missing.json()["checks"]["loaded:directory"] is False
    assert missing.json()["dependencies"]["stream:REPORTS"] is False
    assert ready["checks"]["loaded:directory"] is True


async def test_a_loop_that_ended_makes_the_pod_neither_ready_nor_alive(
    reporting_settings: ReportingSettings,
) -> None:
    app = create_reporting(reporting_settings)
    async with serve(app, headers={}) as client:
        await Probe(client).all_up()
        await app.state.batcher.stop()  # as if its loop had died: it ends soon after
        async with asyncio.timeout(10):
            while (alive := await client.get("/healthz")).status_code == 200:
                await asyncio.sleep(0.05)
        ready = await client.get("/readyz")

    assert (ready.status_code, alive.status_code) == (503, 503)
    assert ready.json()["checks"]["loop:batcher"] is False
    assert alive.json() == {
        "status": "failed",
        "checks": {"loop:directory": True, "loop:batcher": False, "loop:relay": True},
    }
