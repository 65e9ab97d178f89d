"""PostgreSQL goes away under a running reporting service: requests answer 503 with Retry-After
(never 500), and once it is back the service stores reports again by itself. A restart under
concurrent posts, where connections die while in use and while being released, answers every
request with 2xx or 503 too."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

import warroom_registry.prepare
import warroom_reporting.prepare
from tests.utils.apps import serve
from tests.utils.factories import report
from warroom_cli.embedded import EmbeddedPostgres, free_port
from warroom_registry.settings import RegistrySettings
from warroom_reporting.app import create_app
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of this test's own, so stopping it disturbs no other test."""
    server = EmbeddedPostgres(tmp_path / "pg", free_port(), durable=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def reporting(
    own_postgres: EmbeddedPostgres, nats_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The reporting service on the test's own PostgreSQL, its district directory loaded."""
    database_url = own_postgres.dsn.rsplit("/", 1)[0] + "/warroom"
    await db.ensure_database(database_url)
    urls = {"database_url": database_url, "nats_url": nats_url}
    await warroom_registry.prepare.prepare(RegistrySettings(**urls))
    settings = ReportingSettings(**urls)
    await warroom_reporting.prepare.prepare(settings)
    app = create_app(settings)
    async with serve(app) as client:
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        yield client


async def stored_again(client: httpx.AsyncClient) -> None:
    """Post until a report is stored: the pool reconnects on its own once PostgreSQL is back."""
    async with asyncio.timeout(20):
        while (await client.post("/v1/reports", json=report())).status_code != 201:
            await asyncio.sleep(0.2)


async def test_database_outage_answers_503_then_recovers(
    own_postgres: EmbeddedPostgres, reporting: httpx.AsyncClient
) -> None:
    assert (await reporting.post("/v1/reports", json=report())).status_code == 201
    own_postgres.stop()
    for answer in (
        await reporting.post("/v1/reports", json=report()),
        await reporting.get("/v1/reports"),
    ):
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "database_unavailable"
        assert answer.headers["Retry-After"] == "1"
    own_postgres.start()
    await stored_again(reporting)
    assert (await reporting.get("/v1/reports")).json()["items"]


async def test_database_restart_under_posts_answers_only_2xx_or_503(
    own_postgres: EmbeddedPostgres, reporting: httpx.AsyncClient
) -> None:
    """Posts keep coming while PostgreSQL stops and starts again: a server error (an exception
    out of the app) fails the test, and every 503 says when to try again."""
    statuses: Counter[int] = Counter()
    restarted = asyncio.Event()

    async def post_until_restarted() -> None:
        while not restarted.is_set():
            answer = await reporting.post("/v1/reports", json=report())
            statuses[answer.status_code] += 1
            assert answer.status_code in (201, 503), answer.text
            if answer.status_code == 503:
                assert answer.headers["Retry-After"] == "1"
                await asyncio.sleep(0.01)

    async def restart() -> None:
        try:
            while statuses[201] < 20:  # under load first
                await asyncio.sleep(0.01)
            await asyncio.to_thread(own_postgres.stop)
            await asyncio.to_thread(own_postgres.start)
        finally:
            restarted.set()

    async with asyncio.timeout(60):
        await asyncio.gather(restart(), *(post_until_restarted() for _ in range(8)))
    await stored_again(reporting)
    assert statuses[503] > 0, statuses
