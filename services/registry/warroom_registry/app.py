"""The registry's FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from warroom_registry import SCHEMA, directory
from warroom_registry.api.routes import geography, reference, teams, villages
from warroom_registry.geography import Geography
from warroom_registry.programme import ProgrammeScope
from warroom_registry.settings import RegistrySettings
from warroom_shared import db, messaging, outbox
from warroom_shared.logging import configure_logging
from warroom_shared.outbox import OutboxRelay
from warroom_shared.service import service_app


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    configure_logging(settings.log_level, "registry")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await db.create_pool(
            settings.database_url, SCHEMA, timeouts=settings.database_timeouts()
        )
        nc = await messaging.connect(settings.nats_url, "warroom-registry")
        app.state.scope = ProgrammeScope(settings.programme_includes_khet)
        app.state.jetstream = nc.jetstream()
        async with pool.acquire() as conn:
            app.state.geography = await Geography.read(conn)
            # The scope may have changed, or a designation's entry not been written: heal both.
            await directory.publish(app.state.jetstream, conn, app.state.geography, app.state.scope)
        app.state.pool = pool
        relay = OutboxRelay(pool, nc, metrics=app.state.metrics)
        relay_task = asyncio.create_task(relay.run()) if settings.relay_enabled else None
        streams = (messaging.REGISTRY_STREAM.name or "", f"KV_{messaging.DISTRICTS_BUCKET.bucket}")
        loops = {"relay": relay_task} if relay_task is not None else {}
        app.state.readiness.watch(pool, nc, streams=streams, loops=loops)
        app.state.metrics.on_scrape("outbox", outbox.backlog_figures(pool))
        try:
            yield
        finally:
            app.state.readiness.clear()
            app.state.metrics.off_scrape("outbox")
            app.state.metrics.close()
            if relay_task is not None:
                relay.stop()
                await relay_task
            await nc.drain()
            await pool.close()

    return service_app(
        "registry",
        "Geography of Thailand, the programme's districts, the district teams of the CAST "
        "programme and the Sustainable Village programme's designated villages.",
        lifespan,
        settings,
        [m.router for m in (geography, reference, teams, villages)],
    )
