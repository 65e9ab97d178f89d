"""A throwaway PostgreSQL and NATS for a benchmark run, on free ports in a temporary folder."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warroom_cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port


@dataclass(frozen=True)
class Servers:
    database_url: str
    nats_url: str
    admin_dsn: str


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg", free_port())
        nats = EmbeddedNats(Path(tmp) / "nats", free_port())
        try:
            pg.start()
            nats.start()
            base = pg.dsn.rsplit("/", 1)[0]
            yield Servers(f"{base}/warroom", nats.url, pg.dsn)
        finally:
            nats.stop()
            pg.stop()
