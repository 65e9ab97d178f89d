"""`warroom up` as operators run it: a real process with its own data folder and ports, its
embedded PostgreSQL and NATS and every service. Killed, interrupted, started twice, or started
where another server holds a port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.utils.up import (
    SERVICES,
    WARROOM,
    Up,
    answers,
    ready,
    running_up,
    start_up,
    up_env,
    wait_until,
)
from warroom_cli.embedded import EmbeddedNats, EmbeddedPostgres


def processes() -> dict[int, tuple[int, str, str]]:
    """Every live process: pid -> (parent pid, command name, state)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        found[int(stat.parent.name)] = (int(fields[1]), head.split("(", 1)[1], fields[0])
    return found


def descendants(pid: int) -> dict[int, str]:
    """pid -> command name of every process below `pid`."""
    table = processes()
    found: dict[int, str] = {}
    parents = [pid]
    while parents:
        parent = parents.pop()
        for child, (ppid, name, _) in table.items():
            if ppid == parent and child not in found:
                found[child] = name
                parents.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """Those still running (a zombie has ended)."""
    return {pid for pid, (_, _, state) in processes().items() if pid in pids and state != "Z"}


def child_serving(up: Up, service: str) -> int:
    for pid in descendants(up.proc.pid):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if f"warroom_{service}.app".encode() in cmdline:
            return pid
    raise LookupError(service)


def child_relaying(up: Up) -> int | None:
    """The outbox relay (`python -m warroom_cli relay`), if it runs."""
    for pid in descendants(up.proc.pid):
        with contextlib.suppress(OSError):  # gone meanwhile
            if Path(f"/proc/{pid}/cmdline").read_bytes().endswith(b"\0warroom_cli\0relay\0"):
                return pid
    return None


def child_named(up: Up, name: str) -> int:
    return next(
        pid for pid, (ppid, comm, _) in processes().items() if ppid == up.proc.pid and comm == name
    )


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """One `warroom up` shared by the tests below; the last one stops it with Ctrl-C."""
    with running_up(tmp_path_factory.mktemp("up")) as up:
        yield up


BANNER, BANNER_END = "CAST War Room is up:", "Press Ctrl-C to stop.\n"


def test_up_prints_its_banner_last_once_every_service_is_ready(running: Up) -> None:
    wait_until("the banner is printed", lambda: BANNER_END in running.output(), running)
    output = running.output()
    before, banner = output.split(BANNER)

    for service in SERVICES:  # uvicorn's last start-up line, once its app has started
        assert f"Uvicorn running on http://127.0.0.1:{running.port(service)} " in before
    assert before.count("Application startup complete.") == len(SERVICES)
    assert banner.endswith(BANNER_END + "\n")  # nothing printed after it
    for service in SERVICES:  # the APIs' documentation, the website's home page
        page = "/" if service == "web" else "/docs"
        assert f"http://127.0.0.1:{running.port(service)}{page}" in banner


def test_up_starts_postgres_without_a_connection_refused(running: Up) -> None:
    """Nothing connects as a role that does not exist (a probe without `-U` would, as the
    operating system's user), nor is refused otherwise."""
    log = Path(running.env["WARROOM_DATA_DIR"]) / "postgres" / "server.log"
    text = log.read_text()

    assert "database system is ready to accept connections" in text
    assert "FATAL" not in text


def test_up_serves_the_war_room_website_and_prints_its_address(running: Up) -> None:
    web = f"http://127.0.0.1:{running.port('web')}"
    assert f"web       {web}/\n" in running.output()
    assert f"sign in   {web}/signin " in running.output()
    assert answers(running, "web", "/signin")  # the development sign-in: the platform's own key
    # its one live subscription to the aggregator, with a monitor's token of that key
    readiness = httpx.get(f"{web}/readyz", timeout=2).json()
    assert readiness["checks"]["loop:live"] is True
    wait_until("the website follows the aggregator's stream",
               lambda: httpx.get(f"{web}/readyz", timeout=2).json()["dependencies"]["live:aggregator"])  # fmt: skip


def test_up_refuses_a_second_up_on_the_same_data_folder(running: Up) -> None:
    second = subprocess.run(
        [WARROOM, "up"], env=running.env, capture_output=True, text=True, timeout=60
    )

    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"Another `warroom up` (pid {running.proc.pid}) is running on {running.env['WARROOM_DATA_DIR']}: "
        "stop it first, or give this one another WARROOM_DATA_DIR."
    )
    assert all(answers(running, s) for s in SERVICES)


def test_up_starts_a_killed_service_again_while_the_others_keep_answering(running: Up) -> None:
    killed = child_serving(running, "reporting")
    os.kill(killed, signal.SIGKILL)

    def back() -> bool:
        assert answers(running, "registry")
        assert answers(running, "aggregator")
        return alive({killed}) == set() and answers(running, "reporting", "/readyz")

    wait_until("reporting is back", back, running, timeout=60)
    assert child_serving(running, "reporting") != killed
    assert "reporting exited with code -9; starting it again in 1 s" in running.output()


def test_up_runs_the_outbox_relay_as_a_process_of_its_own(running: Up) -> None:
    """Not in the reporting service, whose event loop an import keeps busy; started again too."""
    reporting = f"http://127.0.0.1:{running.port('reporting')}"
    checks = httpx.get(f"{reporting}/readyz", timeout=2).json()["checks"]
    assert "loop:batcher" in checks
    assert "loop:relay" not in checks
    killed = child_relaying(running)
    assert killed is not None
    os.kill(killed, signal.SIGKILL)

    wait_until("the relay is back", lambda: child_relaying(running) not in (None, killed), running)
    assert "relay exited with code -9; starting it again in 1 s" in running.output()


@pytest.mark.parametrize("server", ["postgres", "nats-server"])
def test_up_starts_a_killed_server_again_on_the_same_data(running: Up, server: str) -> None:
    killed = child_named(running, server)
    cluster = (Path(running.env["WARROOM_DATA_DIR"]) / "postgres").resolve()
    os.kill(killed, signal.SIGKILL)

    def back() -> bool:
        try:
            return child_named(running, server) != killed and answers(
                running, "registry", "/readyz"
            )
        except StopIteration:
            return False

    wait_until(f"{server} is back", back, running, timeout=60)
    assert f"{server.split('-')[0]} exited with code -9" in running.output()
    assert (Path(running.env["WARROOM_DATA_DIR"]) / "postgres").resolve() == cluster
    wait_until(
        "every service is ready",
        lambda: all(answers(running, s, "/readyz") for s in SERVICES),
        running,
    )


def test_ctrl_c_stops_the_services_then_nats_then_postgres_without_traceback(running: Up) -> None:
    children = set(descendants(running.proc.pid))
    earlier = len(running.output())
    os.killpg(running.proc.pid, signal.SIGINT)  # what a terminal does: the whole foreground group

    assert running.proc.wait(timeout=90) == 0
    output = running.output()[earlier:]
    assert "Traceback" not in output
    stopped = [
        output.index(f"{name} stopped") for name in (*reversed(SERVICES), "nats", "postgres")
    ]
    assert stopped == sorted(stopped)
    assert output.count("Application shutdown complete") >= len(
        SERVICES
    )  # lifespans ran to the end
    wait_until("every child has exited", lambda: not alive(children), timeout=30)


def test_sigkill_of_up_leaves_no_process_and_the_next_up_starts_cleanly(tmp_path: Path) -> None:
    env = up_env(tmp_path / "data")
    killed = ready(start_up(env, tmp_path / "first.log"))
    children = set(descendants(killed.proc.pid))
    assert {"postgres", "nats-server"} <= set(descendants(killed.proc.pid).values())

    killed.proc.send_signal(signal.SIGKILL)
    killed.proc.wait(timeout=10)
    wait_until("every child has exited", lambda: not alive(children), timeout=60)

    again = ready(start_up(env, tmp_path / "again.log"))
    again.proc.send_signal(signal.SIGTERM)  # as a service manager stops it
    assert again.proc.wait(timeout=90) == 0
    assert "Traceback" not in again.output()


@pytest.mark.parametrize("busy", ["embedded_postgres", "embedded_nats", "reporting"])
async def test_busy_port_stops_up_before_it_touches_anything(
    tmp_path: Path, postgres_server: EmbeddedPostgres, nats_server: EmbeddedNats, busy: str
) -> None:
    databases = "SELECT datname FROM pg_database ORDER BY datname"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        before = await admin.fetch(databases)
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            taken = {"embedded_postgres": postgres_server.port, "embedded_nats": nats_server.port,
                     "reporting": listener.getsockname()[1]}[busy]  # fmt: skip
            env = up_env(tmp_path / "data", **{busy: taken})
            refused = subprocess.run(
                [WARROOM, "up"], env=env, capture_output=True, text=True, timeout=60
            )
        after = await admin.fetch(databases)
    finally:
        await admin.close()

    assert refused.returncode == 1
    assert refused.stderr.startswith(f"Port {taken} (the ")
    assert f"set WARROOM_{busy.upper()}_PORT to a free port" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert after == before
    assert not (tmp_path / "data" / "postgres").exists()
