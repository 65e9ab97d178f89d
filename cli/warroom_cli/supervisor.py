"""`warroom up` keeps what it started running: a child that exits is started again on the same
data, after a pause that doubles with each exit in a row, while the others keep serving."""

from __future__ import annotations

import contextlib
import http.client
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from warroom_cli.embedded import spawn, stop_process

log = logging.getLogger("warroom.up")

FIRST_PAUSE = 1.0  # seconds before the first restart; doubled for each exit in a row
LONGEST_PAUSE = 30.0
STEADY = 60.0  # a child that ran this long starts again from the first pause


class Child(Protocol):
    proc: subprocess.Popen[bytes] | None

    def start(self) -> object: ...

    def stop(self) -> None: ...


class ServiceProcess:
    """A service served by uvicorn, or a worker with no port (the outbox relay); it dies with
    `warroom up` (see `embedded.spawn`)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], port: int | None) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = spawn(self.args, env=self.env)

    def wait_ready(self, timeout: float) -> None:
        """Until its `/readyz` answers 200: listening is not enough, what it loads may still be
        loading and its start-up lines still to come. A worker with no port: while it runs."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}")
            if self.port is None or self._ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} was not ready (GET /readyz) within {timeout}s")

    def _ready(self) -> bool:
        assert self.port is not None
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection.request("GET", "/readyz")
                return connection.getresponse().status == 200
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        """SIGTERM: uvicorn finishes its requests, then the app drains NATS and closes its pool
        (the relay finishes the batch in hand)."""
        stop_process(self.proc)


@dataclass
class _Watch:
    exits: int = 0  # in a row
    started: float = field(default_factory=time.monotonic)
    restart_at: float | None = None


class Supervisor:
    """Children by name, in start order; stopped in the reverse order."""

    def __init__(self) -> None:
        self.children: dict[str, Child] = {}
        self._watches: dict[str, _Watch] = {}

    def start(self, name: str, child: Child) -> None:
        self.children[name] = child
        self._watches[name] = _Watch()
        child.start()

    def watch(self, stopping: threading.Event) -> None:
        """Restart children that exit, until `stopping` is set."""
        while not stopping.wait(0.2):
            for name, child in self.children.items():
                self._check(name, child, self._watches[name], stopping.is_set)

    def _check(self, name: str, child: Child, watch: _Watch, stopping: Callable[[], bool]) -> None:
        now = time.monotonic()
        if watch.restart_at is None:
            if child.proc is None or child.proc.poll() is None:
                return
            if now - watch.started >= STEADY:
                watch.exits = 0
            pause = min(LONGEST_PAUSE, FIRST_PAUSE * 2**watch.exits)
            watch.exits += 1
            watch.restart_at = now + pause
            log.warning(
                "%s exited with code %s; starting it again in %.0f s",
                name, child.proc.returncode, pause,
            )  # fmt: skip
        elif now >= watch.restart_at and not stopping():
            watch.restart_at = None
            watch.started = now
            try:
                child.start()
            except (OSError, RuntimeError, TimeoutError) as error:
                log.warning("%s did not start again: %s", name, error)
                return
            log.warning("%s started again (pid %s)", name, child.proc and child.proc.pid)

    def stop(self) -> None:
        for name, child in reversed(self.children.items()):
            child.stop()
            log.info("%s stopped", name)
