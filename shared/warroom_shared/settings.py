"""Settings base: every service reads `WARROOM_*` environment variables (12-factor).

Development (the default) runs on the embedded default. Production refuses to start until every
secret and the identity provider are configured: nothing secret has a default there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from warroom_shared.db import DEFAULT_TIMEOUTS, Timeouts
from warroom_shared.security.tokens import AUDIENCE, DEV_ISSUER, Claims, KeySet

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:55432/warroom"
DEFAULT_NATS_URL = "nats://127.0.0.1:44222"


class WarroomSettings(BaseSettings):
    """What every service needs; each service subclasses it with its own settings."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_", env_ignore_empty=True, extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL  # carries the service's own role and password
    nats_url: str = DEFAULT_NATS_URL  # carries the service's own NATS user and password
    stream_replicas: int = 1  # JetStream copies of each stream: 3 on a 3-node NATS cluster
    # Seconds; past each a request answers 503 with Retry-After instead of hanging (`db.Timeouts`)
    database_statement_timeout: float = Field(DEFAULT_TIMEOUTS.statement, gt=0)
    database_command_timeout: float = Field(DEFAULT_TIMEOUTS.command, gt=0)
    database_acquire_timeout: float = Field(DEFAULT_TIMEOUTS.acquire, gt=0)
    log_level: str = "INFO"
    max_body_bytes: int = 64 * 1024

    # Bearer tokens: the identity provider's JWKS URL, or a JWKS file (the embedded default's).
    auth_jwks_url: str | None = None
    auth_jwks_file: Path | None = None
    auth_jwks_refresh: float = 300.0  # seconds: a key the provider removed is refused after this
    auth_issuer: str | None = None  # the `iss` tokens must carry; the embedded default's if unset
    auth_audience: str = AUDIENCE
    auth_role_claim: str = "warroom_role"  # dotted paths into the token's claims
    auth_area_claim: str = "warroom_area"
    rate_limit: str = "50/second;1500/minute"  # per caller, per replica
    rate_limit_storage: str = "async+memory://"  # e.g. async+redis://host:6379 to share it
    cors_origins: list[str] = []  # front ends allowed to call from a browser

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> WarroomSettings:
        if self.environment != "production":
            return self
        missing = []
        if self.database_url == DEFAULT_DATABASE_URL or not urlsplit(self.database_url).password:
            missing.append("WARROOM_DATABASE_URL with the service's own role and password")
        if self.nats_url == DEFAULT_NATS_URL or not urlsplit(self.nats_url).password:
            missing.append("WARROOM_NATS_URL with the service's own NATS user and password")
        if self.auth_jwks_url is None:
            missing.append("WARROOM_AUTH_JWKS_URL (the identity provider's keys)")
        if self.auth_issuer is None:
            missing.append("WARROOM_AUTH_ISSUER (the identity provider's issuer)")
        if missing:
            raise ValueError("production needs " + "; ".join(missing))
        return self

    def database_timeouts(self) -> Timeouts:
        return Timeouts(
            statement=self.database_statement_timeout,
            command=self.database_command_timeout,
            acquire=self.database_acquire_timeout,
        )

    def key_set(self) -> KeySet:
        if self.auth_jwks_url is None and self.auth_jwks_file is None:
            raise RuntimeError(
                "No token keys: set WARROOM_AUTH_JWKS_URL to the identity provider's JWKS, "
                "or WARROOM_AUTH_JWKS_FILE (`warroom up` makes one)."
            )
        return KeySet(
            url=self.auth_jwks_url, file=self.auth_jwks_file, refresh=self.auth_jwks_refresh
        )

    def claims(self) -> Claims:
        return Claims(
            issuer=self.auth_issuer or DEV_ISSUER,
            audience=self.auth_audience,
            role_claim=self.auth_role_claim,
            area_claim=self.auth_area_claim,
        )
