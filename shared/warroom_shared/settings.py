"""Settings base: every service reads `WARROOM_*` environment variables (12-factor)."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:55432/warroom"
DEFAULT_NATS_URL = "nats://127.0.0.1:44222"


class WarroomSettings(BaseSettings):
    """What every service needs; each service subclasses it with its own settings."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_", env_ignore_empty=True, extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    nats_url: str = DEFAULT_NATS_URL
    log_level: str = "INFO"
    max_body_bytes: int = 64 * 1024
