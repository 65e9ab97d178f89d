"""The reporting service's FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from warroom_reporting import SCHEMA, bulk, queries
from warroom_reporting.api.routes import collection, outbox, reports
from warroom_reporting.batcher import SubmitBatcher
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db, messaging
from warroom_shared.directory import DistrictDirectory
from warroom_shared.logging import configure_logging
from warroom_shared.outbox import OutboxRelay, backlog_figures
from warroom_shared.service import service_app


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    configure_logging(settings.log_level, "reporting")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await db.create_pool(
            settings.database_url, SCHEMA, max_size=settings.pool_max_size,
            timeouts=settings.database_timeouts(),
        )  # fmt: skip
        nc = await messaging.connect(settings.nats_url, "warroom-reporting")
        js = nc.jetstream()
        app.state.pool = pool
        app.state.directory = directory = DistrictDirectory()
        loops = {"directory": asyncio.create_task(directory.run(js))}
        app.state.exports = queries.Exports(settings.export_max_concurrent)
        app.state.batcher = batcher = SubmitBatcher(pool, queue_max=settings.submit_queue_max)
        loops["batcher"] = asyncio.create_task(batcher.run())
        metrics = app.state.metrics
        relay = OutboxRelay(pool, nc, batch_size=settings.relay_batch_size, metrics=metrics)
        if settings.relay_enabled:
            loops["relay"] = asyncio.create_task(relay.run())
        streams = (messaging.REPORTS_STREAM.name or "", f"KV_{messaging.DISTRICTS_BUCKET.bucket}")
        app.state.readiness.watch(
            pool, nc, streams=streams, loops=loops, loaded={"directory": directory.ready}
        )
        metrics.on_scrape("outbox", backlog_figures(pool))
        try:
            yield
        finally:
            app.state.readiness.clear()
            metrics.off_scrape("outbox")
            metrics.close()
            relay.stop()
            await batcher.stop()
            await directory.stop()
            await asyncio.gather(*loops.values())
            await nc.drain()
            await pool.close()

    bulk_rule = (bulk.MAX_BYTES, ("application/x-ndjson",))
    return service_app(
        "reporting",
        "Activity reports of the district teams: accepted means counted, exactly once.",
        lifespan,
        settings,
        [m.router for m in (reports, collection, outbox)],  # single submissions first
        overrides={":bulk": bulk_rule},
    )
