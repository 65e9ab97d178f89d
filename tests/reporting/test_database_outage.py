"""PostgreSQL goes away under a running reporting service: requests answer 503 with Retry-After
(never 500), and once it is back the service stores reports again by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

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


async def test_database_outage_answers_503_then_recovers(
    own_postgres: EmbeddedPostgres, nats_url: str
) -> None:
    database_url = own_postgres.dsn.rsplit("/", 1)[0] + "/warroom"
    await db.ensure_database(database_url)
    await warroom_registry.prepare.prepare(
        RegistrySettings(database_url=database_url, nats_url=nats_url)
    )
    settings = ReportingSettings(database_url=database_url, nats_url=nats_url)
    await warroom_reporting.prepare.prepare(settings)
    app = create_app(settings)
    async with serve(app) as client:
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        assert (await client.post("/v1/reports", json=report())).status_code == 201
        own_postgres.stop()
        for answer in (
            await client.post("/v1/reports", json=report()),
            await client.get("/v1/reports"),
        ):
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "database_unavailable"
            assert answer.headers["Retry-After"] == "1"
        own_postgres.start()
        async with asyncio.timeout(20):
            while (await client.post("/v1/reports", json=report())).status_code != 201:
                await asyncio.sleep(0.2)
        assert (await client.get("/v1/reports")).json()["items"]
