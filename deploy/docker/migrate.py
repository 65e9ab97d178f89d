"""Migrations in a deployment (the compose `migrate` service, the Kubernetes `migrate` Job).

Each service's migrations run as its own database role against its own database, and the
JetStream topology is made as the NATS provisioner:

    WARROOM_NATS_URL                  nats://provisioner:<password>@nats:4222
    WARROOM_REGISTRY_DATABASE_URL     postgresql://registry:<password>@postgres:5432/registry
    WARROOM_REPORTING_DATABASE_URL    postgresql://reporting:<password>@postgres:5432/reporting
    WARROOM_AGGREGATOR_DATABASE_URL   postgresql://aggregator:<password>@postgres:5432/aggregator
    WARROOM_STREAM_REPLICAS           3 on a 3-node NATS cluster

A service without its own URL uses WARROOM_DATABASE_URL (one database for every service, as
`warroom migrate` does it). The roles and databases exist beforehand (deploy/postgres/roles.sql).
While the servers are still starting (a new NATS cluster has no JetStream leader for its first
seconds), a step is tried again for up to WARROOM_MIGRATE_WAIT seconds (60).

On a development trial (not production) whose WARROOM_AUTH_JWKS_FILE does not exist yet, it
also makes the development key pair beside it, for `warroom token` to sign with.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import nats.errors
import nats.js.errors

from warroom_aggregator.prepare import prepare as prepare_aggregator
from warroom_aggregator.settings import AggregatorSettings
from warroom_registry.prepare import prepare as prepare_registry
from warroom_registry.settings import RegistrySettings
from warroom_reporting.prepare import prepare as prepare_reporting
from warroom_reporting.settings import ReportingSettings
from warroom_shared.logging import configure_logging
from warroom_shared.security.tokens import DevKeys

log = logging.getLogger("warroom.migrate")

# In this order: the registry publishes the district directory that the others read.
STEPS: dict[str, Callable[[str], Coroutine[Any, Any, None]]] = {
    "registry": lambda url: prepare_registry(RegistrySettings(database_url=url)),
    "reporting": lambda url: prepare_reporting(ReportingSettings(database_url=url)),
    "aggregator": lambda url: prepare_aggregator(AggregatorSettings(database_url=url)),
}


# What a server that is still starting answers: try again.
NOT_YET = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.NoServersError,
    nats.js.errors.ServiceUnavailableError,
    asyncpg.CannotConnectNowError,
    OSError,  # connection refused
)


def run(step: Callable[[], Coroutine[Any, Any, None]], wait: float, pause: float = 2.0) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            asyncio.run(step())
            return
        except NOT_YET as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("servers not ready, trying again", extra={"error": repr(exc)})
            time.sleep(pause)


def database_urls(env: Mapping[str, str]) -> dict[str, str]:
    """Each service's database URL; raises KeyError naming what is missing."""
    urls = {}
    for service in STEPS:
        url = env.get(f"WARROOM_{service.upper()}_DATABASE_URL") or env.get("WARROOM_DATABASE_URL")
        if not url:
            raise KeyError(f"WARROOM_{service.upper()}_DATABASE_URL (or WARROOM_DATABASE_URL)")
        urls[service] = url
    return urls


def development_keys(env: Mapping[str, str]) -> Path | None:
    """Make the development key pair where WARROOM_AUTH_JWKS_FILE expects it, if it is missing
    and this is no production; returns the JWKS file made."""
    jwks = env.get("WARROOM_AUTH_JWKS_FILE")
    if not jwks or env.get("WARROOM_ENVIRONMENT") == "production" or Path(jwks).exists():
        return None
    keys = DevKeys(Path(jwks).parent).ensure()
    if keys.jwks_path != Path(jwks):
        raise ValueError(f"WARROOM_AUTH_JWKS_FILE must be named {keys.jwks_path.name}")
    return keys.jwks_path


def main(env: Mapping[str, str]) -> int:
    configure_logging(env.get("WARROOM_LOG_LEVEL", "INFO"), "migrate")
    try:
        urls = database_urls(env)
    except KeyError as missing:
        print(f"migrate: no database URL: set {missing.args[0]}", file=sys.stderr)
        return 2
    wait = float(env.get("WARROOM_MIGRATE_WAIT", "60"))
    for service, step in STEPS.items():
        run(functools.partial(step, urls[service]), wait)
        log.info("prepared", extra={"prepared": service})
    made = development_keys(env)
    if made is not None:
        log.info("development keys made", extra={"jwks": str(made)})
    return 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
