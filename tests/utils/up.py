"""`warroom up` as a test runs it: a real process with its own data folder and free ports, its
embedded PostgreSQL and NATS and every service."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from warroom_cli.embedded import free_port

WARROOM = str(Path(sys.executable).parent / "warroom")
SERVICES = ("registry", "reporting", "aggregator", "web")
PORTS = ("embedded_postgres", "embedded_nats", *SERVICES)


@dataclass
class Up:
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path

    def port(self, name: str) -> int:
        return int(self.env[f"WARROOM_{name.upper()}_PORT"])

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def up_env(data_dir: Path, **ports: int) -> dict[str, str]:
    """Free ports unless given; no database or NATS URL, so `warroom up` starts its own."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("WARROOM_DATABASE_URL", "WARROOM_NATS_URL")
    }
    env["WARROOM_DATA_DIR"] = str(data_dir)
    for name in PORTS:
        env[f"WARROOM_{name.upper()}_PORT"] = str(ports.get(name) or free_port())
    return env


def start_up(env: dict[str, str], log: Path) -> Up:
    """`warroom up` leading a process group of its own, as a shell starts a foreground job."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [WARROOM, "up"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Up(proc, env, log)


def wait_until(
    what: str, done: Callable[[], bool], up: Up | None = None, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if up is not None and up.proc.poll() is not None:
            pytest.fail(
                f"warroom up exited ({up.proc.returncode}) before {what}:\n{up.output()[-3000:]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"not {what} within {timeout}s")
        time.sleep(0.1)  # polling interval of a bounded wait


def answers(up: Up, service: str, path: str = "/healthz") -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{up.port(service)}{path}", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def ready(up: Up) -> Up:
    wait_until(
        "every service answers", lambda: all(answers(up, s, "/readyz") for s in SERVICES), up
    )
    return up


def stop(up: Up) -> None:
    if up.proc.poll() is None:
        up.proc.send_signal(signal.SIGTERM)
        up.proc.wait(timeout=60)


@contextmanager
def running_up(folder: Path) -> Iterator[Up]:
    """A `warroom up` of its own in `folder`, every service ready; stopped afterwards."""
    up = ready(start_up(up_env(folder / "data"), folder / "up.log"))
    try:
        yield up
    finally:
        stop(up)
