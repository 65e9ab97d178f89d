"""One-off preparation before the registry serves: migrations, geography, topology, directory."""

from __future__ import annotations

import logging

from warroom_registry import SCHEMA, directory, geography
from warroom_registry.programme import ProgrammeScope
from warroom_registry.settings import RegistrySettings
from warroom_shared import db, messaging, outbox

log = logging.getLogger(__name__)

MIGRATIONS = [*outbox.MIGRATIONS, *db.migrations_in("warroom_registry")]


async def prepare(settings: RegistrySettings) -> None:
    await db.migrate(settings.database_url, SCHEMA, MIGRATIONS)
    conn = await db.connect(settings.database_url, SCHEMA)
    try:
        if await geography.load(conn):
            log.info("geography loaded")
        geo = await geography.Geography.read(conn)
        nc = await messaging.connect(settings.nats_url, "warroom-registry-prepare")
        try:
            js = nc.jetstream()
            await messaging.ensure_topology(js, settings.stream_replicas)
            scope = ProgrammeScope(settings.programme_includes_khet)
            written = await directory.publish(js, conn, geo, scope)
            log.info("district directory published", extra={"written": written})
        finally:
            await nc.drain()
    finally:
        await conn.close()
