"""Tokens on the command line: `warroom token` for development, and the token other commands
send (`--token` / `$WARROOM_TOKEN`, else an admin token of the embedded default's own key)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import geothai
import typer
from pydantic_settings import BaseSettings, SettingsConfigDict

from warroom_cli.errors import Failure
from warroom_shared.security.principal import AREA_DIGITS, AccessRole
from warroom_shared.security.tokens import DevKeys

TokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="WARROOM_TOKEN", show_envvar=True,
        help="Bearer token (default on the embedded platform: a short-lived admin token)",
    ),
]  # fmt: skip


class DataDirSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARROOM_", env_ignore_empty=True, extra="ignore")

    data_dir: Path = Path(".warroom")


def dev_keys() -> DevKeys:
    """The embedded default's key pair (made on first use)."""
    return DevKeys(DataDirSettings().data_dir / "auth").ensure()


def locale_language() -> str:
    """The language to ask the services' messages in: Thai for a Thai locale, else English
    (`LC_ALL`, `LC_MESSAGES`, `LANG`, as gettext reads them)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := os.environ.get(name):
            return "th" if value.lower().startswith("th") else "en"
    return "en"


def bearer(token: str | None) -> dict[str, str]:
    """The headers a command sends to a service: its token, and the user's language."""
    if token is None:
        keys = DevKeys(DataDirSettings().data_dir / "auth")
        if not keys.private_path.exists():
            raise Failure(
                f"give a token: --token or $WARROOM_TOKEN (no key of the embedded platform in "
                f"{keys.private_path.parent})"
            )
        token = keys.mint(AccessRole.ADMIN, subject="warroom-cli", ttl=dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {token}", "Accept-Language": locale_language()}


def token(
    role: Annotated[AccessRole, typer.Option(help="What the holder may do")],
    area: Annotated[
        str | None, typer.Option(help="Province (2 digits) or district (4 digits) of an officer")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="Who holds it")] = None,
    hours: Annotated[float, typer.Option(min=0.01, max=24 * 30, help="Valid for")] = 8.0,
) -> None:
    """Print a development token signed with the embedded default's key."""
    digits = AREA_DIGITS.get(role)
    if digits is not None and not (area and len(area) == digits and area.isdigit()):
        raise typer.BadParameter(f"a {role} needs --area with {digits} digits", param_hint="area")
    if digits is None and area is not None:
        raise typer.BadParameter(f"a {role} has no area", param_hint="area")
    if area is not None and (geothai.province if digits == 2 else geothai.district)(area) is None:
        kind = "province" if digits == 2 else "district"
        raise typer.BadParameter(f"no {kind} has the code {area}", param_hint="area")
    ttl = dt.timedelta(hours=hours)
    typer.echo(dev_keys().mint(role, area, subject=subject, ttl=ttl))
