"""What the containers run, run here without Docker: the PostgreSQL roles of
deploy/postgres/roles.sql, `migrate` (each service as its own role, NATS as the provisioner), then
the image's entry point serving each service as its own NATS user and role, its health check,
a trial's development token accepted by every service, and the website reading them with neither
a database nor NATS."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import nats
import nats.errors
import pytest

from warroom_cli.embedded import (
    EmbeddedPostgres,
    free_port,
    postgres_bin_dir,
    stop_process,
    wait_for_port,
)

from .conftest import DEPLOY, ComposeNats, load_script

SERVICES = ("registry", "reporting", "aggregator")
ENTRYPOINT = DEPLOY / "docker" / "entrypoint.sh"
healthcheck = load_script(DEPLOY / "docker" / "healthcheck.py")
migrate = load_script(DEPLOY / "docker" / "migrate.py")


@dataclass(frozen=True)
class Databases:
    """A role and a database per service, made by roles.sql (names made unique for the test)."""

    urls: dict[str, str] = field(repr=False)  # service -> its own role's URL
    names: dict[str, str]  # service -> its role and database


def _admin_url(server: EmbeddedPostgres, database: str = "postgres") -> str:
    return server.dsn.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="module")
async def databases(postgres_server: EmbeddedPostgres) -> AsyncIterator[Databases]:
    prefix = f"d{uuid.uuid4().hex[:8]}_"
    names = {service: prefix + service for service in SERVICES}
    urls = {}
    for service, name in names.items():
        password = uuid.uuid4().hex
        subprocess.run(
            [str(postgres_bin_dir() / "psql"), "--no-psqlrc", "-q", _admin_url(postgres_server),
             "-v", "ON_ERROR_STOP=1", "-v", f"service={name}", "-v", f"password={password}",
             "-f", str(DEPLOY / "postgres" / "roles.sql")],
            check=True, capture_output=True,
        )  # fmt: skip
        where = postgres_server.dsn.split("@", 1)[1].rsplit("/", 1)[0]
        urls[service] = f"postgresql://{name}:{password}@{where}/{name}"
    yield Databases(urls, names)
    admin = await asyncpg.connect(_admin_url(postgres_server))
    try:
        for name in names.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await admin.close()


def container_env(**extra: str) -> dict[str, str]:
    """A container's environment: none of the suite's own WARROOM_* settings, this venv's
    commands first on the PATH (as /opt/warroom/bin is in the image)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


@pytest.fixture(scope="module")
def migrated(
    databases: Databases, compose_nats: ComposeNats, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """`entrypoint.sh migrate` as compose runs it on a trial: returns the data dir, where it made
    the development keys."""
    data_dir = tmp_path_factory.mktemp("warroom-data")
    env = container_env(
        WARROOM_NATS_URL=compose_nats.user_url("provisioner"),
        WARROOM_ENVIRONMENT="development",
        WARROOM_DATA_DIR=str(data_dir),
        WARROOM_AUTH_JWKS_FILE=str(data_dir / "auth" / "jwks.json"),
        **{f"WARROOM_{s.upper()}_DATABASE_URL": url for s, url in databases.urls.items()},
    )
    done = subprocess.run(["sh", str(ENTRYPOINT), "migrate"], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return data_dir


async def test_each_service_owns_its_database_and_no_other(
    migrated: Path, databases: Databases
) -> None:
    for service, url in databases.urls.items():
        conn = await asyncpg.connect(url)
        try:
            owner = await conn.fetchval(
                "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1", service
            )
            assert owner == databases.names[service]
            assert await conn.fetchval(f"SELECT count(*) FROM {service}.schema_migrations") > 0
        finally:
            await conn.close()
        for other in SERVICES:
            if other != service:
                elsewhere = url.rsplit("/", 1)[0] + f"/{databases.names[other]}"
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await asyncpg.connect(elsewhere)


async def test_migrate_made_the_streams_and_the_consumer(
    migrated: Path, compose_nats: ComposeNats
) -> None:
    nc = await nats.connect(compose_nats.user_url("provisioner"))
    try:
        js = nc.jetstream()
        streams = {info.config.name for info in await js.streams_info()}
        assert {"REPORTS", "REGISTRY", "AGGREGATOR_DEADLETTER", "KV_warroom_districts"} <= streams
        assert (await js.consumer_info("REPORTS", "aggregator")).config.durable_name
    finally:
        await nc.close()


def test_migrate_names_what_is_missing() -> None:
    assert migrate.main({"WARROOM_REGISTRY_DATABASE_URL": "postgresql://x@y/z"}) == 2
    urls = migrate.database_urls({"WARROOM_DATABASE_URL": "postgresql://one@db/warroom"})
    assert set(urls.values()) == {"postgresql://one@db/warroom"}  # one database for all


def test_migrate_tries_again_while_the_servers_start() -> None:
    calls = []

    async def starting() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise nats.errors.TimeoutError  # a new cluster without a JetStream leader yet

    migrate.run(starting, wait=5, pause=0.01)
    assert len(calls) == 3

    async def down() -> None:
        raise ConnectionRefusedError

    with pytest.raises(ConnectionRefusedError):
        migrate.run(down, wait=0.05, pause=0.01)

    async def wrong() -> None:
        raise ValueError("a real mistake is not waited for")

    calls.clear()
    with pytest.raises(ValueError, match="real mistake"):
        migrate.run(wrong, wait=5, pause=0.01)


def test_no_development_keys_in_production(tmp_path: Path) -> None:
    jwks = str(tmp_path / "auth" / "jwks.json")
    env = {"WARROOM_ENVIRONMENT": "production", "WARROOM_AUTH_JWKS_FILE": jwks}
    assert migrate.development_keys(env) is None
    assert not (tmp_path / "auth").exists()
    assert migrate.development_keys({**env, "WARROOM_ENVIRONMENT": "development"}) == Path(jwks)


@contextlib.contextmanager
def container(command: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sh", str(ENTRYPOINT), command], env=env)
    try:
        yield proc
    finally:
        stop_process(proc)


def until_healthy(args: list[str], env: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
    """Run the image's health check until it passes, as Docker does."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{args} exited with {proc.returncode}"
        check = subprocess.run([sys.executable, *args], env=env, capture_output=True)
        if check.returncode == 0:
            return
        time.sleep(0.3)
    raise TimeoutError(f"{args} never passed: {check.stderr.decode()}")


def test_every_service_serves_as_its_own_user_and_trusts_the_trial_token(
    migrated: Path, databases: Databases, compose_nats: ComposeNats
) -> None:
    shared = {
        "WARROOM_ENVIRONMENT": "development",
        "WARROOM_DATA_DIR": str(migrated),
        "WARROOM_AUTH_JWKS_FILE": str(migrated / "auth" / "jwks.json"),
        "WARROOM_HOST": "127.0.0.1",
    }
    users = {"registry": "registry", "reporting": "reporting", "aggregator": "aggregator"}
    ports = {service: free_port() for service in SERVICES}
    script = str(DEPLOY / "docker" / "healthcheck.py")
    with contextlib.ExitStack() as stack:
        for service in SERVICES:
            env = container_env(
                **shared,
                WARROOM_PORT=str(ports[service]),
                WARROOM_DATABASE_URL=databases.urls[service],
                WARROOM_NATS_URL=compose_nats.user_url(users[service]),
                WARROOM_RELAY_ENABLED="false",
            )
            proc = stack.enter_context(container(service, env))
            wait_for_port(ports[service], proc, 60, service)
            until_healthy([script], env, proc)  # /readyz: its database, NATS, streams
        relay_env = container_env(
            **shared,
            WARROOM_DATABASE_URL=databases.urls["reporting"],
            WARROOM_NATS_URL=compose_nats.user_url("reporting"),
        )
        relay = stack.enter_context(container("relay", relay_env))
        until_healthy([script, "--deps"], relay_env, relay)

        token = subprocess.run(
            ["sh", str(ENTRYPOINT), "warroom", "token", "--role", "admin"],
            env=container_env(**shared), capture_output=True, check=True, text=True,
        ).stdout.strip()  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        paths = {
            "registry": "/v1/reference",
            "reporting": "/v1/outbox",
            "aggregator": "/v1/consumer",
        }
        for service, path in paths.items():
            url = f"http://127.0.0.1:{ports[service]}{path}"
            assert httpx.get(url, headers=auth).status_code == 200, service
            assert httpx.get(url).status_code == 401, service
        assert relay.poll() is None

        # The website as compose runs it: the three APIs' URLs, a session secret, no database
        # or NATS URL; on a trial its live headline's token is minted with the keys volume's key.
        web_port = free_port()
        web_env = container_env(
            **shared,
            WARROOM_PORT=str(web_port),
            WARROOM_SESSION_SECRET=uuid.uuid4().hex,
            **{f"WARROOM_{s.upper()}_URL": f"http://127.0.0.1:{p}" for s, p in ports.items()},
        )
        web = stack.enter_context(container("web", web_env))
        wait_for_port(web_port, web, 60, "web")
        until_healthy([script], web_env, web)
        wanted = {f"api:{service}": True for service in SERVICES} | {"live:aggregator": True}
        deadline = time.monotonic() + 30
        while (found := _dependencies(web_port)) != wanted and time.monotonic() < deadline:
            time.sleep(0.3)  # the live subscription opens after the pod is ready
        assert found == wanted
        signin = httpx.get(f"http://127.0.0.1:{web_port}/signin")
        assert signin.status_code == 200  # the trial's development sign-in
        assert web.poll() is None


def _dependencies(port: int) -> dict[str, bool]:
    answer: dict[str, bool] = httpx.get(f"http://127.0.0.1:{port}/readyz").json()["dependencies"]
    return answer


def test_the_website_refuses_to_start_in_production_without_its_session_secret() -> None:
    """As compose and the Kubernetes Secret give it: without the key, no website (a key made
    per replica would sign out every user whose next request reaches another replica)."""
    env = container_env(
        WARROOM_ENVIRONMENT="production",
        WARROOM_PORT=str(free_port()),
        WARROOM_HOST="127.0.0.1",
        WARROOM_AUTH_JWKS_URL="https://sso.example.invalid/certs",
        WARROOM_AUTH_ISSUER="https://sso.example.invalid",
        WARROOM_SESSION_SECRET="",  # an empty value in .env or the Secret: as if unset
    )
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "web"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "WARROOM_SESSION_SECRET" in done.stderr


def test_the_health_check_fails_on_no_answer_and_on_a_refused_dependency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert healthcheck.http_ok("/readyz", free_port()) is False
    closed = free_port()
    assert healthcheck.reachable(f"nats://u:p@127.0.0.1:{closed}", 4222) is False
    monkeypatch.delenv("WARROOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("WARROOM_NATS_URL", raising=False)
    assert healthcheck.main(["--deps"]) == 1  # no URL: not "whatever listens on localhost"


def test_the_entry_point_says_what_it_runs() -> None:
    shown = subprocess.run(["sh", str(ENTRYPOINT), "--help"], capture_output=True, text=True)
    assert shown.returncode == 0
    for command in (
        "registry",
        "reporting",
        "aggregator",
        "web",
        "relay",
        "migrate",
        "healthcheck",
    ):
        assert command in shown.stdout
    assert subprocess.run(["sh", "-n", str(ENTRYPOINT)]).returncode == 0
