"""The embedded PostgreSQL's files: where they live as root, and the lock file a dead
postmaster leaves behind."""

from __future__ import annotations

import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from warroom_cli import pgfiles
from warroom_cli.embedded import EmbeddedPostgres, durable_settings, free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)  # like /root: no one else may enter
    pg = EmbeddedPostgres(home / "data" / "postgres", free_port(), durable=False)
    yield pg
    pg.stop()


async def test_postgres_starts_and_serves_without_a_refused_connection(
    server: EmbeddedPostgres,
) -> None:
    """Its readiness is read from the lock file, not probed with a connection: a probe without a
    role (`pg_isready`) connects as the operating system's user, a role that does not exist."""
    for _ in range(2):  # a new cluster, then the same one again
        server.start()
        conn = await asyncpg.connect(server.dsn)  # as the services and the tests do
        assert await conn.fetchval("SELECT current_user") == "postgres"
        await conn.close()
        server.stop()

    log = (server.data_dir / "server.log").read_text()
    assert log.count("database system is ready to accept connections") == 2
    assert "does not exist" not in log
    assert "FATAL" not in log


@pytest.mark.skipif(not pgfiles.as_root(), reason="PostgreSQL runs as the user itself")
def test_postgres_as_root_opens_nothing_above_the_data_folder(server: EmbeddedPostgres) -> None:
    home = server.data_dir.parent.parent
    before = {path: path.stat().st_mode for path in (home, *home.parents)}

    server.start()

    assert {path: path.stat().st_mode for path in before} == before
    cluster = server.data_dir.resolve()
    assert server.data_dir.is_symlink()
    assert not cluster.is_relative_to(home)
    info = cluster.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (
        0o700,
        pwd.getpwnam(pgfiles.OS_USER).pw_uid,
    )


def test_postgres_starts_over_the_lock_file_of_a_postmaster_long_gone(
    server: EmbeddedPostgres,
) -> None:
    server.start()
    server.stop()
    cluster = server.data_dir.resolve()
    lock = cluster / "postmaster.pid"
    # Its PID now belongs to another live process of PostgreSQL's user: PostgreSQL refuses that.
    with subprocess.Popen(["sleep", "60"], user=pgfiles.os_user()) as other:
        lock.write_text(f"{other.pid}\n{cluster}\n")
        try:
            server.start()
        finally:
            other.kill()

    assert lock.read_text().split("\n")[0] == str(server.proc and server.proc.pid)


def test_postgres_refuses_the_lock_file_of_a_live_postmaster(
    tmp_path: Path, server: EmbeddedPostgres
) -> None:
    server.start()
    cluster = server.data_dir.resolve()
    lock = (cluster / "postmaster.pid").read_text()
    second = EmbeddedPostgres(server.data_dir, free_port(), durable=False)

    with pytest.raises(
        RuntimeError,
        match=f"PostgreSQL \\(pid {server.proc and server.proc.pid}\\) is already running",
    ):
        second.start()

    assert (cluster / "postmaster.pid").read_text() == lock


@pytest.mark.skipif(not pgfiles.as_root(), reason="clusters live apart only as root")
def test_new_cluster_sweeps_clusters_of_gone_folders_and_keeps_moved_ones(tmp_path: Path) -> None:
    moved_from, moved_to = tmp_path / "a" / "data", tmp_path / "b" / "data"
    gone = tmp_path / "c" / "data"
    kept, swept = pgfiles.cluster_dir(moved_from), pgfiles.cluster_dir(gone)
    moved_to.parent.mkdir()
    moved_from.rename(moved_to)  # its link still points at its cluster
    shutil.rmtree(gone.parent)  # a test's temporary folder, removed whole

    pgfiles.cluster_dir(tmp_path / "d" / "data")  # a new cluster sweeps

    assert kept.exists()
    assert moved_to.resolve() == kept
    assert not swept.parent.exists()


async def test_the_platforms_own_postgres_is_set_for_an_import_and_stays_crash_safe(
    tmp_path: Path,
) -> None:
    pg = EmbeddedPostgres(tmp_path / "postgres", free_port())
    pg.start()
    try:
        conn = await asyncpg.connect(pg.dsn)
        size = "SELECT pg_size_bytes(current_setting($1)) / 2^20"
        shown = {
            name: await conn.fetchval(size, name) for name in ("max_wal_size", "shared_buffers")
        }
        shown["checkpoint_timeout"] = await conn.fetchval("SHOW checkpoint_timeout")
        safety = [await conn.fetchval(f"SHOW {name}") for name in ("fsync", "full_page_writes")]
        await conn.close()
    finally:
        pg.stop()
    assert shown["max_wal_size"] == 4096
    assert 128 <= shown["shared_buffers"] <= 1024
    assert f"{shown['shared_buffers']:.0f}MB" == durable_settings()["shared_buffers"]
    assert shown["checkpoint_timeout"] == "15min"
    assert safety == ["on", "on"]
