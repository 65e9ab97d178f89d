"""PostgreSQL helpers: a pool bound to the service's own schema, and a migration runner.

Each service owns one schema (its own database in a larger deployment); `search_path` pins every
connection of the pool to it, so services never read each other's tables.

No request waits on the database for ever (`Timeouts`): PostgreSQL cancels a statement that runs
too long, the client gives up on one the server does not answer, and waiting for a pooled
connection (or for a new one to connect) is bounded. Each ends in an error that the services
answer with 503 and Retry-After (`http.DATABASE_UNAVAILABLE`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Time limits of a pool, in seconds (settings: `WARROOM_DATABASE_*_TIMEOUT`)."""

    statement: float = 15.0  # PostgreSQL's `statement_timeout`: QueryCanceledError
    # The client's: TimeoutError when the server does not answer (a hung host, a lost network).
    # Above `statement`, so that PostgreSQL's own limit, with its clear error, comes first.
    command: float = 20.0
    acquire: float = 5.0  # a free pooled connection, or a new one connected: TimeoutError


DEFAULT_TIMEOUTS = Timeouts()


class Pool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg has no type hints
    """An asyncpg pool whose `acquire` waits at most its acquire timeout unless told otherwise,
    `async with pool.acquire()` as everywhere (asyncpg's own waits for ever by default)."""

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str


def migrations_in(package: str) -> list[Migration]:
    """The `NNNN_*.sql` files of a package's `migrations` folder, in order."""
    folder = files(package).joinpath("migrations")
    sql_files = sorted(
        (f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name
    )
    return [
        Migration(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in sql_files
    ]


# msgspec: several times faster than the json module, and each report stores four jsonb values
_json = msgspec.json.Encoder()


def _jsonb_encode(value: Any) -> bytes:
    return b"\x01" + _json.encode(value)  # binary jsonb is a version byte, then the text


def _jsonb_decode(data: bytes) -> Any:
    return msgspec.json.decode(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    """jsonb in binary format, so that COPY (`copy_records_to_table`) can carry it too."""
    await conn.set_type_codec(
        "jsonb", encoder=_jsonb_encode, decoder=_jsonb_decode, schema="pg_catalog",
        format="binary",
    )  # fmt: skip


async def create_pool(
    dsn: str, schema: str, *, min_size: int = 2, max_size: int = 10,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
) -> Pool:  # fmt: skip
    server_settings = {
        "search_path": schema,
        "application_name": f"warroom-{schema}",
        "statement_timeout": str(round(timeouts.statement * 1000)),  # milliseconds
    }
    pool = Pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        max_queries=50_000,  # asyncpg's defaults, as create_pool passes them
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        init=_init_connection,
        acquire_timeout=timeouts.acquire,
        timeout=timeouts.acquire,  # connecting
        command_timeout=timeouts.command,
        server_settings=server_settings,
    )
    await pool
    return pool


async def connect(dsn: str, schema: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    await _init_connection(conn)
    return conn


async def ensure_database(dsn: str) -> None:
    """Create the DSN's database if it does not exist (the embedded default and tests need it)."""
    name = urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(dsn, database="postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def migrate(dsn: str, schema: str, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; returns their names.

    An advisory lock per schema lets several replicas start at once without racing.
    """
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"warroom.migrate.{schema}")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET search_path TO "{schema}"')
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        applied = [m.name for m in migrations if m.name not in done]
        for m in migrations:
            if m.name in done:
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", m.name)
            log.info("migration applied", extra={"schema": schema, "migration": m.name})
        return applied
    finally:
        await conn.close()
