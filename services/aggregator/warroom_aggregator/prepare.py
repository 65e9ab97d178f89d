"""One-off preparation before the aggregator serves: migrations, streams, durable consumer."""

from __future__ import annotations

from warroom_aggregator import SCHEMA, topology
from warroom_aggregator.settings import AggregatorSettings
from warroom_shared import db, messaging

MIGRATIONS = db.migrations_in("warroom_aggregator")


async def prepare(settings: AggregatorSettings) -> None:
    await db.migrate(settings.database_url, SCHEMA, MIGRATIONS)
    nc = await messaging.connect(settings.nats_url, "warroom-aggregator-prepare")
    try:
        await topology.provision(nc.jetstream(), settings)
    finally:
        await nc.drain()
