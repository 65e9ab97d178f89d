"""A throwaway PostgreSQL and NATS for a benchmark run, on free ports in a temporary folder, and
token keys the services trust (with the rate limit lifted: the load comes from one caller)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warroom_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from warroom_shared.security.principal import AccessRole
from warroom_shared.security.tokens import DevKeys


@dataclass(frozen=True)
class Servers:
    database_url: str
    nats_url: str
    admin_dsn: str
    token: str  # an admin's

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg", free_port())
        nats = EmbeddedNats(Path(tmp) / "nats", free_port())
        keys = DevKeys(Path(tmp) / "auth").ensure()
        os.environ["WARROOM_AUTH_JWKS_FILE"] = str(keys.jwks_path)
        os.environ["WARROOM_RATE_LIMIT"] = "1000000000/second"
        try:
            pg.start()
            nats.start()
            base = pg.dsn.rsplit("/", 1)[0]
            token = keys.mint(AccessRole.ADMIN, subject="bench")
            yield Servers(f"{base}/warroom", nats.url, pg.dsn, token)
        finally:
            nats.stop()
            pg.stop()
