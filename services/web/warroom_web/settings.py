from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, model_validator

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
    # Signing in with the identity provider (OpenID Connect, authorization code flow with PKCE):
    # its issuer (discovery at <issuer>/.well-known/openid-configuration) and this website's
    # client there; no secret for a public client.
    oidc_issuer: str | None = None
    oidc_client_id: str = "warroom"
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid"
    # Seconds before a token expires when a new one is got (a user's, by their refresh token;
    # the live stream's, by the client credentials grant or a new development token).
    token_refresh_margin: float = Field(60.0, ge=0)
    # The live headline's one upstream stream per replica: a monitor's token from the identity
    # provider by the client credentials grant (a client with the monitor role); on the
    # embedded default one is minted with the dev key.
    live_client_id: str | None = None
    live_client_secret: str | None = None
    # Or, without an identity provider (a development cluster), a fixed monitor's token from
    # `warroom token`: it cannot be renewed, so the live headline stops when it expires.
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
        if self.live_client_id is not None and (
            self.oidc_issuer is None or self.live_client_secret is None
        ):
            raise ValueError(
                "WARROOM_LIVE_CLIENT_ID needs WARROOM_LIVE_CLIENT_SECRET and WARROOM_OIDC_ISSUER"
            )
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("WARROOM_OIDC_SCOPES must include openid (the ID token and its nonce)")
        if self.live_client_id is not None and self.live_token is not None:
            raise ValueError("WARROOM_LIVE_CLIENT_ID or WARROOM_LIVE_TOKEN, not both")
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
