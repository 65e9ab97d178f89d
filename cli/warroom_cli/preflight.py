"""What `warroom up` checks before it starts anything: that no other `warroom up` runs on its data
folder, and that every port it would listen on is free."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LOCK_FILE = "warroom-up.pid"  # in the data folder


class Refused(Exception):
    """A reason not to start, in one line for the operator."""


class DataDirLock:
    """An exclusive lock on the data folder for as long as this process runs (the kernel drops
    it when the process ends, however it ends); the file says which process holds it."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "unknown"
            file.close()
            raise Refused(
                f"Another `warroom up` (pid {holder}) is running on {self.path.parent}: "
                "stop it first, or give this one another WARROOM_DATA_DIR."
            ) from None
        file.truncate(0)
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass(frozen=True)
class Port:
    number: int
    host: str
    what: str  # e.g. "the embedded PostgreSQL"
    setting: str  # the environment variable that moves it


def check_ports(ports: list[Port]) -> None:
    """Refuse, naming the first port another program already listens on."""
    for port in ports:
        if _in_use(port.host, port.number):
            raise Refused(
                f"Port {port.number} ({port.what}) is in use by another program on {port.host}: "
                f"stop it, or set {port.setting} to a free port."
            )


def _in_use(host: str, port: int) -> bool:
    """Whether a bind like the servers' own (SO_REUSEADDR) fails: a listener holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False
