"""The deployments' files, and a nats-server started from the compose configuration."""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from warroom_cli.embedded import free_port, nats_server_binary, stop_process, wait_for_port
from warroom_shared import nats_users

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def load_script(path: Path) -> ModuleType:
    """A script of deploy/ (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(f"deploy_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = load_script(DEPLOY / "render_nats_auth.py")
NGINX = DEPLOY / "compose" / "nginx.conf"


def nginx_proxy_header(name: str) -> str:
    """The value the compose proxy gives a request header (`proxy_set_header`, http level)."""
    found = re.findall(
        rf"^\s*proxy_set_header\s+{re.escape(name)}\s+(\S+);", NGINX.read_text(), re.M
    )
    assert len(found) == 1, f"nginx.conf sets {name} {len(found)} times"
    return str(found[0])


def nats_passwords() -> dict[str, str]:
    """A password per variable, made as the README says (`openssl rand -hex 24`); one begins
    with digits and an `e`, which nats-server must still read as a string."""
    made = {render.password_variable(u.name): secrets.token_hex(24) for u in nats_users.USERS}
    made["MONITOR_NATS_PASSWORD"] = "1e5" + secrets.token_hex(20)
    return made


@dataclass(frozen=True)
class ComposeNats:
    url: str  # nats://127.0.0.1:<port>, without credentials
    passwords: dict[str, str] = field(repr=False)  # variable -> password

    def user_url(self, user: str) -> str:
        return nats_users.url(self.url, user, self.passwords[render.password_variable(user)])


@pytest.fixture(scope="session")
def compose_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeNats]:
    """nats-server with deploy/compose/nats.conf and its generated users, the passwords in its
    environment; its ports and store moved to free ones of this machine."""
    folder = tmp_path_factory.mktemp("compose-nats")
    shutil.copy(DEPLOY / "compose" / "nats-auth.conf", folder / "nats-auth.conf")
    config = (DEPLOY / "compose" / "nats.conf").read_text()
    assert "store_dir: /data\n" in config
    (folder / "nats.conf").write_text(config.replace("/data", str(folder / "store")))
    made = nats_passwords()
    port = free_port()
    args = [nats_server_binary(), "-c", str(folder / "nats.conf"), "-a", "127.0.0.1",
            "-p", str(port), "-m", str(free_port())]  # fmt: skip
    with open(folder / "server.log", "ab") as log:
        proc = subprocess.Popen(args, env={**os.environ, **made}, stdout=log, stderr=log)
    try:
        wait_for_port(port, proc, 30, "nats-server (compose configuration)")
        yield ComposeNats(f"nats://127.0.0.1:{port}", made)
    finally:
        stop_process(proc)
