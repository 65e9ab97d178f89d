from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import model_validator

from warroom_shared.security.tokens import DevKeys
from warroom_shared.settings import WarroomSettings


class WebSettings(WarroomSettings):
    """`WARROOM_*` settings of the War Room website."""

    registry_url: str = "http://127.0.0.1:8001"
    reporting_url: str = "http://127.0.0.1:8002"
    aggregator_url: str = "http://127.0.0.1:8003"
    upstream_timeout: float = 5.0  # seconds per API call; past it the section says so
    # Signs the session cookie; every replica needs the same one. Development: one per process.
    session_secret: str | None = None
    session_hours: float = 8.0
    # The live headline's one upstream stream per replica: a monitor's token from the identity
    # provider (client credentials); on the embedded default one is minted with the dev key.
    live_token: str | None = None
    live_interval: float = 0.25  # seconds: at most one live update per browser this often
    public_national_totals: bool = False  # the nation page without signing in

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> WebSettings:
        """Replaces the base's check: the website has no database or NATS of its own."""
        if self.environment == "production":
            missing = [name for name, value in (
                ("WARROOM_SESSION_SECRET (32 random bytes or more)", self.session_secret),
                ("WARROOM_AUTH_JWKS_URL (the identity provider's keys)", self.auth_jwks_url),
                ("WARROOM_AUTH_ISSUER (the identity provider's issuer)", self.auth_issuer),
            ) if not value]  # fmt: skip
            if missing:
                raise ValueError("production needs " + "; ".join(missing))
        if self.session_secret is None:
            self.session_secret = secrets.token_urlsafe(32)
        return self

    def dev_keys(self) -> DevKeys | None:
        """The embedded default's signing key, beside the JWKS the services trust; only in
        development, where it enables the development sign-in."""
        if self.environment != "development" or self.auth_jwks_file is None:
            return None
        keys = DevKeys(Path(self.auth_jwks_file).parent)
        return keys if keys.private_path.exists() else None
