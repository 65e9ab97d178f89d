from pathlib import Path

import pytest
from typer.testing import CliRunner

from warroom_cli.main import app as cli
from warroom_shared.security.principal import AccessRole, Principal
from warroom_shared.security.tokens import DEV_ISSUER, Claims, KeySet, TokenVerifier


async def test_token_command_prints_a_token_the_services_accept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path))
    printed = CliRunner().invoke(cli, ["token", "--role", "district_officer", "--area", "1001"])
    again = CliRunner().invoke(cli, ["token", "--role", "monitor", "--hours", "1"])

    assert printed.exit_code == 0, printed.output
    verifier = TokenVerifier(KeySet(file=tmp_path / "auth" / "jwks.json"), Claims(DEV_ISSUER))
    principal = await verifier.principal(printed.stdout.strip())
    assert principal == Principal("dev-district_officer-1001", AccessRole.DISTRICT_OFFICER, "1001")
    assert (await verifier.principal(again.stdout.strip())).role is AccessRole.MONITOR  # same key
    assert (tmp_path / "auth" / "signing-key.pem").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "district_officer"],
        ["--role", "district_officer", "--area", "10"],
        ["--role", "national_viewer", "--area", "10"],
        ["--role", "root"],
        ["--role", "district_officer", "--area", "1299"],  # no such district
        ["--role", "province_officer", "--area", "99"],  # no such province
    ],
)
def test_token_command_refuses_a_role_without_its_area(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path))
    assert CliRunner().invoke(cli, ["token", *args]).exit_code == 2
