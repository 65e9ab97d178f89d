"""Services run as real processes, the way operators run them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

from warroom_cli.embedded import free_port, stop_process, uvicorn_args, wait_for_port


def service_env(database_url: str, nats_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ, "WARROOM_DATABASE_URL": database_url, "WARROOM_NATS_URL": nats_url,
        "WARROOM_LOG_LEVEL": "WARNING", **extra,
    }  # fmt: skip


@contextlib.contextmanager
def warroom(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running `warroom` command (e.g. `relay`), stopped at the end."""
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "warroom"), *args], env=env
    )
    try:
        yield proc
    finally:
        stop_process(proc)


@contextlib.contextmanager
def service_process(
    factory: str, env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """An app factory served by uvicorn in a process of its own: (base URL, the process), for a
    test that must kill it."""
    port = free_port()
    proc = subprocess.Popen([*uvicorn_args(factory, port), "--log-level", "warning"], env=env)
    try:
        wait_for_port(port, proc, 60, factory)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop_process(proc)
