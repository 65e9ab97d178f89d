"""Tokens for the tests, signed with the suite's own key pair (made by `pytest_configure`)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from warroom_shared.security.principal import AccessRole
from warroom_shared.security.tokens import DevKeys

ROLE_AREAS: dict[AccessRole, str | None] = {
    AccessRole.ADMIN: None,
    AccessRole.NATIONAL_VIEWER: None,
    AccessRole.PROVINCE_OFFICER: "10",  # Bangkok
    AccessRole.DISTRICT_OFFICER: "1001",  # Phra Nakhon, Bangkok
    AccessRole.MONITOR: None,
}


def keys() -> DevKeys:
    return DevKeys(Path(os.environ["WARROOM_AUTH_JWKS_FILE"]).parent)


def token(
    role: AccessRole = AccessRole.ADMIN, area: str | None = None, *, subject: str | None = None,
    ttl: dt.timedelta = dt.timedelta(hours=2),
) -> str:  # fmt: skip
    """A token of `role`; officers get their usual test area unless `area` is given."""
    return keys().mint(role, area or ROLE_AREAS[role], subject=subject, ttl=ttl)


def bearer(role: AccessRole = AccessRole.ADMIN, area: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, area)}"}
