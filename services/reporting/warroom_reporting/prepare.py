"""One-off preparation before the reporting serves: migrations and JetStream topology."""

from __future__ import annotations

from warroom_reporting import SCHEMA
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db, messaging, outbox

MIGRATIONS = [*outbox.MIGRATIONS, *db.migrations_in("warroom_reporting")]


async def prepare(settings: ReportingSettings) -> None:
    await db.migrate(settings.database_url, SCHEMA, MIGRATIONS)
    nc = await messaging.connect(settings.nats_url, "warroom-reporting-prepare")
    try:
        await messaging.ensure_topology(nc.jetstream(), settings.stream_replicas)
    finally:
        await nc.drain()
