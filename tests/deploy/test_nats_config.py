"""The deployments' NATS configuration: generated from `nats_users.py` (passwords as environment
variable references), accepted by a real nats-server, and each user gets in with the password
from the server's environment and nothing else."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import nats
import pytest

from warroom_cli.embedded import nats_server_binary
from warroom_shared import nats_users
from warroom_shared.nats_users import EnvPassword

from .conftest import DEPLOY, ROOT, ComposeNats, nats_passwords, render

COMPOSE_CONF = DEPLOY / "compose" / "nats.conf"
KUBERNETES_CONF = DEPLOY / "kubernetes" / "base" / "nats" / "nats.conf"


def test_an_env_password_is_a_variable_reference_and_a_plain_one_stays_quoted() -> None:
    config = nats_users.authorization_config(
        {"registry": EnvPassword("REGISTRY_NATS_PASSWORD"), "monitor": "$not-a-variable"}
    )
    assert "password: $REGISTRY_NATS_PASSWORD\n" in config
    assert 'password: "$not-a-variable"\n' in config
    assert '"reporting"' not in config  # a user without a password is left out
    for bad in ("registry password", "1ABC", "A-B", "", "$A"):
        with pytest.raises(ValueError, match="not an environment variable name"):
            EnvPassword(bad)


@pytest.mark.parametrize("target", render.TARGETS, ids=lambda p: p.parent.name)
def test_the_committed_authorization_is_generated_from_nats_users(target: Path) -> None:
    assert target.read_text() == render.render(), (
        f"{target.relative_to(ROOT)} differs from shared/warroom_shared/nats_users.py: "
        "run `.venv/bin/python deploy/render_nats_auth.py` and commit the result"
    )
    for user in nats_users.USERS:
        assert f"password: ${render.password_variable(user.name)}\n" in target.read_text()


@pytest.mark.parametrize("config", [COMPOSE_CONF, KUBERNETES_CONF], ids=["compose", "kubernetes"])
def test_nats_server_accepts_the_configuration(config: Path) -> None:
    env = {**os.environ, **nats_passwords(), "POD_NAME": "nats-0", "NATS_ROUTE_PASSWORD": "r0ute"}
    checked = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(config)], env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr + checked.stdout
    text = config.read_text()
    assert "sync_interval: always" in text  # every write synced to disk
    assert f"include ./{'nats-auth.conf' if config == COMPOSE_CONF else 'auth.conf'}" in text


async def answer_to_login(url: str, user: str | None, password: str | None) -> str:
    """What the server answers a CONNECT with these credentials and a PING: `PONG` when it let
    the client in (the plain protocol: nats-py leaves a socket open when it is refused)."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        assert (await reader.readline()).startswith(b"INFO ")
        options = {"verbose": False, "pedantic": False, "user": user, "pass": password}
        writer.write(b"CONNECT " + json.dumps(options).encode() + b"\r\nPING\r\n")
        await writer.drain()
        return (await asyncio.wait_for(reader.readline(), 5)).decode().strip()
    finally:
        writer.close()
        await writer.wait_closed()


async def test_every_user_gets_in_with_the_password_from_the_environment_only(
    compose_nats: ComposeNats,
) -> None:
    for user in nats_users.USERS:
        nc = await nats.connect(compose_nats.user_url(user.name), max_reconnect_attempts=0)
        await nc.close()
        password = compose_nats.passwords[render.password_variable(user.name)]
        assert await answer_to_login(compose_nats.url, user.name, password) == "PONG"
        refused = await answer_to_login(compose_nats.url, user.name, password[:-1] + "x")
        assert "Authorization Violation" in refused
    assert "Authorization Violation" in await answer_to_login(compose_nats.url, None, None)


async def test_the_users_have_their_permissions(compose_nats: ComposeNats) -> None:
    """One sample: reporting may not publish registry events (the full matrix is in
    tests/security/test_nats_users.py, on a configuration rendered the same way)."""
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(
        compose_nats.user_url("reporting"),
        error_cb=on_error,
        max_reconnect_attempts=0,
    )
    try:
        await nc.publish("warroom.registry.team.created.10.1001", b"{}")
        for _ in range(100):
            if errors:
                break
            await asyncio.sleep(0.05)
    finally:
        await nc.close()
    assert any("permissions violation for publish" in str(e).lower() for e in errors)
