"""Services run as real processes, the way operators run them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

from warroom_cli.embedded import free_port, stop_process, wait_for_port


def service_env(database_url: str, nats_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ, "WARROOM_DATABASE_URL": database_url, "WARROOM_NATS_URL": nats_url,
        "WARROOM_LOG_LEVEL": "WARNING", **extra,
    }  # fmt: skip


@contextlib.contextmanager
def uvicorn(factory: str, env: dict[str, str]) -> Iterator[str]:
    """Serve an app factory on a free port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", factory, "--factory", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    try:
        wait_for_port(port, proc, 30, factory)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


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
