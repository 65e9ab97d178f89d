"""The embedded default: PostgreSQL and NATS from pip binaries, then every service."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic_settings import SettingsConfigDict

from warroom_cli.auth import DataDirSettings, dev_keys
from warroom_cli.embedded import EmbeddedNats, EmbeddedPostgres, uvicorn_args
from warroom_cli.preflight import DataDirLock, Port, Refused, check_ports
from warroom_cli.supervisor import ServiceProcess, Supervisor
from warroom_shared import db, nats_users
from warroom_shared.logging import configure_logging
from warroom_shared.settings import WarroomSettings


class PlatformSettings(WarroomSettings, DataDirSettings):
    """Where the embedded default keeps its data and which ports it uses."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_", env_ignore_empty=True, extra="ignore")

    embedded_postgres_port: int = 55432
    embedded_nats_port: int = 44222
    registry_port: int = 8001
    reporting_port: int = 8002
    aggregator_port: int = 8003
    web_port: int = 8000
    host: str = "127.0.0.1"  # where the services listen

    def service_port(self, name: str) -> int:
        ports = {"registry": self.registry_port, "reporting": self.reporting_port,
                 "aggregator": self.aggregator_port, "web": self.web_port}  # fmt: skip
        return ports[name]


@dataclass(frozen=True)
class Service:
    name: str
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
        Service("registry", "warroom_registry.app:create_app",
                lambda: prepare_registry(RegistrySettings())),
        Service("reporting", "warroom_reporting.app:create_app",
                lambda: prepare_reporting(ReportingSettings())),
        Service("aggregator", "warroom_aggregator.app:create_app",
                lambda: prepare_aggregator(AggregatorSettings())),
        Service("web", "warroom_web.app:create_app", _nothing_to_prepare),
    ]  # fmt: skip


async def _nothing_to_prepare() -> None:
    """The website keeps no data of its own."""


NATS_PASSWORDS = Path("secrets") / "nats.json"  # in the data dir
WARROOM = [sys.executable, "-m", "warroom_cli"]  # this command, run by this Python
READY_WITHIN = 120.0  # seconds for each service to answer /readyz 200 on start


def nats_passwords(data_dir: Path) -> dict[str, str]:
    """Each NATS user's password for the embedded server: made on first start, then kept in
    `secrets/nats.json` (mode 0600) in the data dir and reused."""
    path = data_dir / NATS_PASSWORDS
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    passwords = {u.name: kept.get(u.name) or secrets.token_urlsafe(24) for u in nats_users.USERS}
    if passwords != kept:
        write_secret(path, json.dumps(passwords, indent=2) + "\n")
    return passwords


def write_secret(path: Path, text: str) -> None:
    """Write a file only its owner may read, in a folder only its owner may enter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the file may have existed with other bits
    with os.fdopen(fd, "w") as f:
        f.write(text)


def embedded_nats(settings: PlatformSettings) -> tuple[EmbeddedNats, dict[str, str]]:
    """The embedded NATS with every user of `nats_users`, and each user's URL."""
    passwords = nats_passwords(settings.data_dir)
    config = settings.data_dir / "secrets" / "nats-server.conf"
    write_secret(config, nats_users.authorization_config(passwords))
    server = EmbeddedNats(settings.data_dir / "nats", settings.embedded_nats_port, config)
    return server, {user: nats_users.url(server.url, user, pw) for user, pw in passwords.items()}


def redacted(url: str) -> str:
    """The URL with its password masked, for a banner or a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def prepare_all() -> None:
    """Create the database if needed, run every service's migrations, load reference data.

    Against the embedded NATS of `warroom up` (no `WARROOM_NATS_URL`), as its provisioner."""
    settings = PlatformSettings()
    if not os.environ.get("WARROOM_NATS_URL") and (settings.data_dir / NATS_PASSWORDS).exists():
        os.environ["WARROOM_NATS_URL"] = embedded_nats(settings)[1]["provisioner"]
    asyncio.run(db.ensure_database(WarroomSettings().database_url))
    for service in services():
        asyncio.run(service.prepare())


class _Stop(BaseException):
    """Ctrl-C or SIGTERM while starting: leave what is under way, then stop in order. A
    BaseException, so that no `except Exception` on the way (asyncio's included) swallows it."""


def up() -> int:
    """Start what is not given by URL, prepare, run every service until Ctrl-C or SIGTERM."""
    settings = PlatformSettings()
    configure_logging(settings.log_level, "warroom-up")
    given = {k for k in ("WARROOM_DATABASE_URL", "WARROOM_NATS_URL") if os.environ.get(k)}
    lock = DataDirLock(settings.data_dir)
    try:
        lock.acquire()
        check_ports(ports(settings, given))
    except Refused as reason:
        print(reason, file=sys.stderr)
        return 1
    supervisor = Supervisor()
    stopping = threading.Event()
    starting = True

    def on_signal(signum: int, _: object) -> None:
        if stopping.is_set():
            return  # already stopping, in order
        stopping.set()
        if starting:
            raise _Stop

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        start(settings, given, supervisor)
        starting = False
        supervisor.watch(stopping)
        return 0
    except _Stop:
        return 0
    except (RuntimeError, TimeoutError) as error:
        print(f"warroom up: {error}", file=sys.stderr)
        return 1
    finally:
        starting = False
        supervisor.stop()
        lock.release()


def ports(settings: PlatformSettings, given: set[str]) -> list[Port]:
    """Every port `warroom up` would listen on."""
    wanted = []
    if "WARROOM_DATABASE_URL" not in given:
        wanted.append(Port(settings.embedded_postgres_port, "127.0.0.1", "the embedded PostgreSQL",
                           "WARROOM_EMBEDDED_POSTGRES_PORT"))  # fmt: skip
    if "WARROOM_NATS_URL" not in given:
        wanted.append(Port(settings.embedded_nats_port, "127.0.0.1", "the embedded NATS",
                           "WARROOM_EMBEDDED_NATS_PORT"))  # fmt: skip
    for service in services():
        port = settings.service_port(service.name)
        setting = f"WARROOM_{service.name.upper()}_PORT"
        wanted.append(Port(port, settings.host, f"the {service.name} service", setting))
    return wanted


def start(settings: PlatformSettings, given: set[str], supervisor: Supervisor) -> None:
    """Servers first, then migrations and reference data, then the services; a banner once
    every service is ready."""
    nats_urls: dict[str, str] = {}  # the embedded NATS: each service connects as its own user
    if "WARROOM_DATABASE_URL" not in given:
        pg = EmbeddedPostgres(settings.data_dir / "postgres", settings.embedded_postgres_port)
        supervisor.start("postgres", pg)
        os.environ["WARROOM_DATABASE_URL"] = pg.dsn.rsplit("/", 1)[0] + "/warroom"
    if "WARROOM_NATS_URL" not in given:
        nats, nats_urls = embedded_nats(settings)
        supervisor.start("nats", nats)
        os.environ["WARROOM_NATS_URL"] = nats_urls["provisioner"]  # for prepare_all
    if not os.environ.get("WARROOM_AUTH_JWKS_URL"):  # no identity provider: our own keys
        os.environ["WARROOM_AUTH_JWKS_FILE"] = str(dev_keys().jwks_path.resolve())
    prepare_all()
    processes = []
    for service in services():
        port = settings.service_port(service.name)
        own = {"WARROOM_NATS_URL": nats_urls[service.name]} if service.name in nats_urls else {}
        if service.name == "web":  # it reads the others' APIs
            own |= {f"WARROOM_{name.upper()}_URL": f"http://{settings.host}:{settings.service_port(name)}"
                    for name in ("registry", "reporting", "aggregator")}  # fmt: skip
        if service.name == "reporting":  # its outbox relay runs on its own, below
            own["WARROOM_RELAY_ENABLED"] = "false"
        process = ServiceProcess(service.name, uvicorn_args(service.app, port, settings.host),
                                 {**os.environ, **own}, port)  # fmt: skip
        supervisor.start(service.name, process)
        processes.append(process)
        if service.name == "reporting":
            relay = ServiceProcess("relay", [*WARROOM, "relay"], {**os.environ, **own}, None)
            supervisor.start("relay", relay)
            processes.append(relay)
    for process in processes:  # the banner comes last, after every service's start-up lines
        process.wait_ready(READY_WITHIN)
    banner(settings, nats_urls)


def banner(settings: PlatformSettings, nats_urls: dict[str, str]) -> None:
    print("\nCAST War Room is up:")
    print(f"  database  {redacted(os.environ['WARROOM_DATABASE_URL'])}")
    if nats_urls:
        where = settings.data_dir / NATS_PASSWORDS
        url = f"nats://127.0.0.1:{settings.embedded_nats_port}"
        print(f"  nats      {url} (users {', '.join(nats_urls)}; passwords in {where})")
    else:
        print(f"  nats      {redacted(os.environ['WARROOM_NATS_URL'])}")
    for service in services():
        page = "/" if service.name == "web" else "/docs"
        print(
            f"  {service.name:<9} http://{settings.host}:{settings.service_port(service.name)}{page}"
        )
    web = f"http://{settings.host}:{settings.service_port('web')}"
    print(f"  sign in   {web}/signin (development: pick a role and an area)")
    print("  tokens    warroom token --role admin (or district_officer --area 1201, ...)")
    print("  demo      make demo (in another terminal: a quarter of reports to look at)")
    print("Press Ctrl-C to stop.\n", flush=True)
