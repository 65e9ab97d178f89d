"""Every command answers a failure it can foresee with one line on stderr and a non-zero exit,
never a traceback (unless `--verbose`); commands find their NATS user on the embedded default."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nats.errors
import pytest

import warroom_aggregator.prepare
import warroom_registry.prepare
import warroom_reporting.prepare
from tests.cli.helpers import failure_line, run
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli import errors, servers
from warroom_cli.embedded import EmbeddedNats, free_port
from warroom_cli.platform import NATS_PASSWORDS, PlatformSettings, embedded_nats
from warroom_registry.settings import RegistrySettings
from warroom_reporting.settings import ReportingSettings

START = "is the platform running (`make run`)?"


def embedded_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """An operator's shell on the embedded default: no server URL given, the platform's data
    folder and ports (here free ones, so that nothing listens unless a test starts it)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("WARROOM_NATS_URL", "WARROOM_DATABASE_URL")}  # fmt: skip
    return {**env, "WARROOM_DATA_DIR": str(data_dir),
            "WARROOM_EMBEDDED_NATS_PORT": str(free_port()),
            "WARROOM_EMBEDDED_POSTGRES_PORT": str(free_port()), **extra}  # fmt: skip


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[tuple[EmbeddedNats, dict[str, str]]]:
    """The embedded NATS as `warroom up` starts it: every user, passwords in the data folder."""
    port = free_port()
    server, urls = embedded_nats(PlatformSettings(data_dir=tmp_path, embedded_nats_port=port))
    server.start()
    yield server, urls
    server.stop()


def test_import_of_a_service_that_does_not_listen_says_so(tmp_path: Path) -> None:
    ndjson = tmp_path / "reports.ndjson"
    ndjson.write_text("{}\n")
    url = f"http://127.0.0.1:{free_port()}"
    line = failure_line(run("import", str(ndjson), "--url", url, env=embedded_env(tmp_path)))
    assert line.startswith(f"warroom import: cannot reach the reporting service at {url}")
    assert line.endswith(START)


def test_import_of_a_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    line = failure_line(run("import", str(missing), env=embedded_env(tmp_path)))
    assert line == f"warroom import: cannot read {missing}: No such file or directory"


def test_import_of_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    sheet = tmp_path / "reports.csv"
    sheet.write_bytes("programme,title\ncast,ประปา\n".encode() + "cast,น้ำ\n".encode("tis-620"))
    line = failure_line(run("import", str(sheet), env=embedded_env(tmp_path)))
    assert "reports.csv is not UTF-8 text (byte 0xb9 on line 3)" in line


def test_import_checks_the_whole_file_is_utf8_before_sending_anything(tmp_path: Path) -> None:
    """The file is read as it is sent, but a byte that is not UTF-8 far into it (past the
    blocks the check reads at a time) still stops the import before its first request: here no
    service listens, and the line names the byte, not the service."""
    ndjson = tmp_path / "reports.ndjson"
    good = '{"title": "ประปาหมู่บ้าน"}\n'.encode()
    lines = 3 * (1 << 20) // len(good)
    ndjson.write_bytes(good * lines + '{"title": "น้ำ"}\n'.encode("tis-620"))
    url = f"http://127.0.0.1:{free_port()}"
    line = failure_line(run("import", str(ndjson), "--url", url, env=embedded_env(tmp_path)))
    assert f"reports.ndjson is not UTF-8 text (byte 0xb9 on line {lines + 1})" in line


def test_reconcile_with_the_platform_down_could_not_compare(tmp_path: Path) -> None:
    args = ("reconcile", "--fiscal-year", "2568", "--quarter", "2", "--wait", "0")
    line = failure_line(run(*args, env=embedded_env(tmp_path)))
    assert line.startswith("warroom reconcile: could not compare: cannot reach the database")
    assert line.endswith(START)


async def test_reconcile_names_the_reporting_service_it_cannot_reach(
    reporting_settings: ReportingSettings, tmp_path: Path
) -> None:
    given = {"database_url": reporting_settings.database_url,
             "nats_url": reporting_settings.nats_url}  # fmt: skip
    await warroom_aggregator.prepare.prepare(AggregatorSettings(**given))
    url = f"http://127.0.0.1:{free_port()}"
    env = embedded_env(tmp_path, WARROOM_DATABASE_URL=reporting_settings.database_url,
                       WARROOM_NATS_URL=reporting_settings.nats_url)  # fmt: skip
    args = ("reconcile", "--fiscal-year", "2568", "--quarter", "2", "--reporting-url", url)
    line = failure_line(run(*args, env=env))
    assert line == (f"warroom reconcile: could not compare: cannot reach the reporting service "
                    f"at {url} (Connection refused): {START}")  # fmt: skip


def test_rebuild_with_the_platform_down_says_so(tmp_path: Path) -> None:
    line = failure_line(run("aggregator", "rebuild", env=embedded_env(tmp_path)))
    assert line.startswith("warroom aggregator rebuild: cannot reach the database at postgresql://")
    assert line.endswith(START)


def test_rebuild_stops_at_once_when_nats_refuses_its_user(
    secured_nats: tuple[EmbeddedNats, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    server, _ = secured_nats
    wrong = server.url.replace("nats://", "nats://aggregator:not-the-password@")
    env = embedded_env(tmp_path, WARROOM_DATABASE_URL=database_url, WARROOM_NATS_URL=wrong)
    line = failure_line(run("aggregator", "rebuild", env=env, timeout=30))
    shown = server.url.replace("//", "//aggregator:***@")  # the password masked
    assert line == (f"warroom aggregator rebuild: NATS at {shown} (user aggregator) refused the "
                    "user and password (Authorization Violation)")  # fmt: skip


async def test_rebuild_on_the_embedded_default_connects_as_the_aggregator_user(
    secured_nats: tuple[EmbeddedNats, dict[str, str]], database_url: str, tmp_path: Path
) -> None:
    """No NATS URL given: the `aggregator` user's password is read from the data folder (the
    default user, with no password, would be refused by this server)."""
    server, urls = secured_nats
    given = {"database_url": database_url, "nats_url": urls["provisioner"]}
    await warroom_registry.prepare.prepare(RegistrySettings(**given))
    await warroom_reporting.prepare.prepare(ReportingSettings(**given))
    await warroom_aggregator.prepare.prepare(AggregatorSettings(**given))
    env = embedded_env(tmp_path, WARROOM_DATABASE_URL=database_url,
                       WARROOM_EMBEDDED_NATS_PORT=str(server.port))  # fmt: skip
    done = run("aggregator", "rebuild", env=env)
    assert done.returncode == 0, done.stderr
    assert "totals rebuilt: 0 events counted" in done.stdout
    # and the monitor's password, for `warroom tail`, is refused once it is not the server's
    (tmp_path / NATS_PASSWORDS).write_text('{"monitor": "not-the-password"}')
    line = failure_line(run("tail", "--count", "1", env=env, timeout=30))
    assert line.startswith("warroom tail: NATS at nats://monitor:***@127.0.0.1:")
    assert line.endswith("(user monitor) refused the user and password (Authorization Violation)")
    # and `warroom relay` connects as the `reporting` user
    (tmp_path / NATS_PASSWORDS).write_text('{"reporting": "not-the-password"}')
    line = failure_line(run("relay", env=env, timeout=30))
    assert line.startswith("warroom relay: NATS at nats://reporting:***@127.0.0.1:")


async def test_a_request_nats_does_not_permit_is_named_in_its_timeout(
    secured_nats: tuple[EmbeddedNats, dict[str, str]],
) -> None:
    """nats-py only times out a refused request; the server's reason comes with it."""
    _, urls = secured_nats
    nc = await servers.connect_nats(urls["monitor"], "test")
    try:
        with pytest.raises(nats.errors.TimeoutError) as refused:
            await nc.jetstream(timeout=1).stream_info("KV_warroom_districts")
    finally:
        await nc.close()
    assert str(errors.nats_failure(refused.value)) == (
        "NATS did not answer a request in time: permissions violation for publish to "
        '"$js.api.stream.info.kv_warroom_districts"'
    )


def test_relay_with_nothing_listening_says_so(tmp_path: Path) -> None:
    line = failure_line(run("relay", env=embedded_env(tmp_path)))
    assert line.startswith("warroom relay: cannot reach the database at postgresql://postgres@")


def test_verbose_shows_the_traceback_then_the_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.ndjson"
    done = run("--verbose", "import", str(missing), env=embedded_env(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert "FileNotFoundError" in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last == f"warroom import: cannot read {missing}: No such file or directory"
