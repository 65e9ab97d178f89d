"""Serve an app in several worker processes that share the load evenly.

uvicorn's `--workers` share one listening socket, and the worker that wakes first accepts a
whole burst of new connections: with 32 keep-alive connections opened at once, one worker often
took 90% of them and the other idled, so a run measured one core, or two, by chance. Here each
worker has a socket of its own on the same port (`SO_REUSEPORT`) and the kernel spreads the
connections over them evenly, as a Service spreads them over replicas in production.

python -m bench.serve FACTORY PORT   (one worker; `balanced_serving` starts several)
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import uvicorn

from warroom_cli.embedded import free_port, stop_process


def _listeners(port: int) -> int:
    """Sockets listening on the port (state 0A in /proc/net/tcp)."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for r in rows if r[1].endswith(f":{port:04X}") and r[3] == "0A")


@contextlib.contextmanager
def balanced_serving(factory: str, env: dict[str, str], workers: int) -> Iterator[str]:
    """`workers` processes serving the app factory on one free port; yields its base URL once
    every one of them listens."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.serve", factory, str(port)]
    procs = [subprocess.Popen(cmd, env=env) for _ in range(workers)]
    try:
        deadline = time.monotonic() + 60
        while _listeners(port) < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"{factory}: not every worker listens on port {port}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in procs:
            stop_process(proc)


def main(factory: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(factory, factory=True, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
