"""The embedded default: PostgreSQL and NATS from pip binaries, then every service."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import SettingsConfigDict

from warroom_cli.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    stop_process,
    uvicorn_args,
    wait_for_port,
)
from warroom_shared import db
from warroom_shared.settings import WarroomSettings


class PlatformSettings(WarroomSettings):
    """Where the embedded default keeps its data and which ports it uses."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_", env_ignore_empty=True, extra="ignore")

    data_dir: Path = Path(".warroom")
    embedded_postgres_port: int = 55432
    embedded_nats_port: int = 44222
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    app: str  # uvicorn factory
    prepare: Callable[[], Coroutine[Any, Any, None]]


def services() -> list[Service]:
    from warroom_aggregator.prepare import prepare as prepare_aggregator
    from warroom_aggregator.settings import AggregatorSettings
    from warroom_registry.prepare import prepare as prepare_registry
    from warroom_registry.settings import RegistrySettings
    from warroom_reporting.prepare import prepare as prepare_reporting
    from warroom_reporting.settings import ReportingSettings

    return [
        Service("registry", 8001, "warroom_registry.app:create_app",
                lambda: prepare_registry(RegistrySettings())),
        Service("reporting", 8002, "warroom_reporting.app:create_app",
                lambda: prepare_reporting(ReportingSettings())),
        Service("aggregator", 8003, "warroom_aggregator.app:create_app",
                lambda: prepare_aggregator(AggregatorSettings())),
    ]  # fmt: skip


def prepare_all() -> None:
    """Create the database if needed, run every service's migrations, load reference data."""
    asyncio.run(db.ensure_database(WarroomSettings().database_url))
    for service in services():
        asyncio.run(service.prepare())


def up() -> int:
    """Start what is not given by URL, prepare, run every service until Ctrl-C."""
    settings = PlatformSettings()
    given = {k for k in ("WARROOM_DATABASE_URL", "WARROOM_NATS_URL") if os.environ.get(k)}
    servers: list[EmbeddedPostgres | EmbeddedNats] = []
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if "WARROOM_DATABASE_URL" not in given:
            pg = EmbeddedPostgres(settings.data_dir / "postgres", settings.embedded_postgres_port)
            servers.append(pg)
            pg.start()
            os.environ["WARROOM_DATABASE_URL"] = pg.dsn.rsplit("/", 1)[0] + "/warroom"
        if "WARROOM_NATS_URL" not in given:
            nats = EmbeddedNats(settings.data_dir / "nats", settings.embedded_nats_port)
            servers.append(nats)
            os.environ["WARROOM_NATS_URL"] = nats.start()
        prepare_all()
        for service in services():
            args = uvicorn_args(service.app, service.port, settings.host)
            children.append(subprocess.Popen(args))
        for service, child in zip(services(), children, strict=True):
            wait_for_port(service.port, child, 60, service.name)
        print("\nCAST War Room is up:")
        print(f"  database  {os.environ['WARROOM_DATABASE_URL']}")
        print(f"  nats      {os.environ['WARROOM_NATS_URL']}")
        for service in services():
            print(f"  {service.name:<9} http://{settings.host}:{service.port}/docs")
        print("Press Ctrl-C to stop.\n", flush=True)
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.2)
        return 0 if stopping else 1
    finally:
        for child in reversed(children):
            stop_process(child)
        for server in reversed(servers):
            server.stop()
