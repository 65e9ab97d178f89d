"""The servers a command connects to, found by itself on the embedded default, and a first
connection that fails in one line instead of retrying for ever.

NATS: `$WARROOM_NATS_URL`, else the command's own user of the embedded NATS of `warroom up`
(its password in `.warroom/secrets/nats.json`). PostgreSQL: `$WARROOM_DATABASE_URL`, else the
embedded PostgreSQL's `warroom` database. Both on the ports `warroom up` uses
(`WARROOM_EMBEDDED_NATS_PORT`, `WARROOM_EMBEDDED_POSTGRES_PORT`).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import asyncpg
import nats
import nats.errors
from nats.aio.client import Client as NATS

from warroom_cli.embedded import PG_SUPERUSER
from warroom_cli.errors import START, Failure, nats_failure, on_nats_error
from warroom_cli.platform import NATS_PASSWORDS, PlatformSettings, redacted
from warroom_shared import nats_users
from warroom_shared.settings import WarroomSettings


def nats_url(user: str) -> str:
    """`$WARROOM_NATS_URL`, else `user` on the embedded NATS (no user before its first start)."""
    if os.environ.get("WARROOM_NATS_URL"):
        return WarroomSettings().nats_url
    settings = PlatformSettings()
    server = f"nats://127.0.0.1:{settings.embedded_nats_port}"
    path = settings.data_dir / NATS_PASSWORDS
    if not path.exists():
        return server
    password = json.loads(path.read_text(encoding="utf-8")).get(user)
    if not password:
        raise Failure(f"{path} has no password of the NATS user {user}: restart `make run`")
    return nats_users.url(server, user, password)


def database_url() -> str:
    """`$WARROOM_DATABASE_URL`, else the embedded PostgreSQL's database of the platform."""
    if os.environ.get("WARROOM_DATABASE_URL"):
        return WarroomSettings().database_url
    port = PlatformSettings().embedded_postgres_port
    return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{port}/warroom"


def _where(url: str) -> str:
    user = urlsplit(url.split(",")[0].strip()).username
    servers = ",".join(redacted(part.strip()) for part in url.split(","))
    return f"NATS at {servers}" + (f" (user {user})" if user else "")


async def connect_nats(url: str, name: str) -> NATS:
    """A connection that is made at once or fails with one line (refused user, nothing
    listening); it does not reconnect: a command is run again."""
    try:
        return await nats.connect(
            [part.strip() for part in url.split(",")], name=name, allow_reconnect=False,
            max_reconnect_attempts=1, reconnect_time_wait=0.5, connect_timeout=5,
            error_cb=on_nats_error,
        )  # fmt: skip
    except (nats.errors.Error, OSError) as exc:
        raise nats_failure(exc, _where(url)) from exc


async def check_nats(url: str, name: str) -> None:
    """Fail in one line now if NATS cannot be reached or refuses the user, before a command
    connects the way a service does (reconnecting for ever)."""
    nc = await connect_nats(url, name)
    await nc.close()


async def check_database(url: str) -> None:
    """Fail in one line now if the database cannot be reached, does not exist or refuses."""
    where = f"the database at {redacted(url)}"
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except asyncpg.InvalidCatalogNameError as exc:
        raise Failure(f"{where} does not exist: run `warroom migrate`") from exc
    except asyncpg.PostgresError as exc:
        raise Failure(f"{where} refused: {exc}") from exc
    except (OSError, TimeoutError) as exc:
        raise Failure(f"cannot reach {where}: {START}") from exc
    await conn.close()
