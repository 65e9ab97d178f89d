"""Real servers for the whole suite: a PostgreSQL and a `nats-server -js`, started once per session
on free ports with temporary directories. Each test gets its own database (a copy of a migrated
template) and a JetStream with no streams or buckets left over from another test."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NATS

import warroom_aggregator
import warroom_aggregator.prepare
import warroom_registry
import warroom_registry.prepare
import warroom_reporting
import warroom_reporting.prepare
from tests.utils.apps import Platform
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from warroom_registry import geography
from warroom_registry.settings import RegistrySettings
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db
from warroom_shared.security.principal import AccessRole
from warroom_shared.security.tokens import DevKeys

TEMPLATE = "warroom_template"
KEYS_DIR = Path(tempfile.mkdtemp(prefix="warroom-test-keys-"))


def pytest_configure(config: pytest.Config) -> None:
    """The suite's own token keys, for every app and process it starts: services check tokens
    against them, commands send an admin's. Rate limits are tested on their own."""
    keys = DevKeys(KEYS_DIR).ensure()
    os.environ["WARROOM_AUTH_JWKS_FILE"] = str(keys.jwks_path)
    os.environ["WARROOM_TOKEN"] = keys.mint(AccessRole.ADMIN, subject="test-cli")
    os.environ["WARROOM_RATE_LIMIT"] = "1000000/second"


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(KEYS_DIR, ignore_errors=True)


SCHEMAS = [
    (warroom_registry.SCHEMA, warroom_registry.prepare.MIGRATIONS),
    (warroom_reporting.SCHEMA, warroom_reporting.prepare.MIGRATIONS),
    (warroom_aggregator.SCHEMA, warroom_aggregator.prepare.MIGRATIONS),
]


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", free_port(), durable=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A NATS server of the test's own, on a port and store it keeps across restarts, so
    stopping or freezing it disturbs no other test."""
    server = EmbeddedNats(tmp_path / "nats", free_port())
    server.start()
    yield server
    server.stop()


def _dsn(server: EmbeddedPostgres, database: str) -> str:
    return server.dsn.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
async def template_database(postgres_server: EmbeddedPostgres) -> str:
    """A database with every service's migrations applied and the geography loaded."""
    dsn = _dsn(postgres_server, TEMPLATE)
    await db.ensure_database(dsn)
    for schema, migrations in SCHEMAS:
        await db.migrate(dsn, schema, migrations)
    conn = await db.connect(dsn, warroom_registry.SCHEMA)
    try:
        await geography.load(conn)
    finally:
        await conn.close()
    return TEMPLATE


@pytest.fixture
async def database_url(
    postgres_server: EmbeddedPostgres, template_database: str
) -> AsyncIterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield _dsn(postgres_server, name)
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def nats_url(nats_server: EmbeddedNats) -> AsyncIterator[str]:
    """The session's NATS, with every stream (KV buckets included) removed before the test."""
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        for name in await js.streams_info():
            await js.delete_stream(name.config.name)
        yield nats_server.url
    finally:
        await nc.close()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_url)
    yield client
    await client.close()


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).parent / "data"


@pytest.fixture
async def reporting_settings(database_url: str, nats_url: str) -> ReportingSettings:
    """Reporting with the registry's district directory published, as on a running platform."""
    await warroom_registry.prepare.prepare(
        RegistrySettings(database_url=database_url, nats_url=nats_url)
    )
    settings = ReportingSettings(database_url=database_url, nats_url=nats_url)
    await warroom_reporting.prepare.prepare(settings)
    return settings


@pytest.fixture
async def platform(reporting_settings: ReportingSettings) -> Platform:
    """Every service prepared (migrations, streams, directory, the aggregator's consumer)."""
    urls = {
        "database_url": reporting_settings.database_url,
        "nats_url": reporting_settings.nats_url,
    }
    aggregator = AggregatorSettings(**urls)
    await warroom_aggregator.prepare.prepare(aggregator)
    return Platform(RegistrySettings(**urls), reporting_settings, aggregator)
