"""The aggregator's FastAPI application: the totals API, the live stream and, unless disabled,
the consumer and the change feed running in the background of the same process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from warroom_aggregator import SCHEMA, topology
from warroom_aggregator import metrics as aggregator_metrics
from warroom_aggregator.api.routes import completeness, deadlines, health, stream, totals
from warroom_aggregator.broadcast import Broadcaster
from warroom_aggregator.changes import ChangeFeed
from warroom_aggregator.consumer import Consumer
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.state import State
from warroom_shared import db, messaging
from warroom_shared.directory import DistrictDirectory
from warroom_shared.logging import configure_logging
from warroom_shared.metrics import Metrics
from warroom_shared.service import service_app
from warroom_shared.sse import streams_end_on_exit_signal


def create_app(settings: AggregatorSettings | None = None) -> FastAPI:
    settings = settings or AggregatorSettings()
    configure_logging(settings.log_level, "aggregator")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics: Metrics = app.state.metrics
        state = await _open(settings, metrics)
        app.state.aggregator = state
        metrics.on_scrape("consumer", aggregator_metrics.consumer_figures(state.js))
        metrics.on_scrape("dead_letters", aggregator_metrics.dead_letter_figures(state.pool))
        directory = asyncio.create_task(state.directory.run(state.js))
        workers: dict[str, asyncio.Task[None]] = {}
        if settings.consumer_enabled:
            await topology.ensure(state.js, settings)
            workers = {
                "consumer": asyncio.create_task(state.consumer.run()),
                "feed": asyncio.create_task(state.feed.run()),
            }
        app.state.readiness.watch(
            state.pool, state.nc,
            streams=(topology.REPORTS, topology.DEAD_LETTER_STREAM.name or "",
                     f"KV_{messaging.DISTRICTS_BUCKET.bucket}"),
            consumers=[(topology.REPORTS, topology.CONSUMER)],
            loops={"directory": directory, **workers},
            loaded={"directory": state.directory.ready},
        )  # fmt: skip
        with streams_end_on_exit_signal(state.broadcaster.close):
            try:
                yield
            finally:
                app.state.readiness.clear()
                metrics.off_scrape("consumer")
                metrics.off_scrape("dead_letters")
                metrics.close()
                await _shut_down(state, directory, list(workers.values()))

    return service_app(
        "aggregator",
        "Running totals of CAST reports: national, province and district, live.",
        lifespan,
        settings,
        [m.router for m in (totals, completeness, deadlines, stream, health)],
    )


async def _open(settings: AggregatorSettings, metrics: Metrics) -> State:
    pool = await db.create_pool(
        settings.database_url, SCHEMA, timeouts=settings.database_timeouts()
    )
    nc = await messaging.connect(settings.nats_url, "warroom-aggregator")
    js = nc.jetstream()
    feed = ChangeFeed(pool, nc, settings.publish_interval)
    consumer = Consumer(pool, nc, settings, on_applied=feed.mark, metrics=metrics)
    broadcaster = Broadcaster(
        metrics.gauge("warroom_sse_clients", "Clients connected to the live stream (/v1/stream)")
    )
    state = State(settings, pool, nc, js, DistrictDirectory(), broadcaster, consumer, feed)
    # Every replica's changes reach this replica's SSE clients, consumer or not.
    await nc.subscribe(f"{topology.TOTALS_SUBJECT_PREFIX}.>", cb=state.broadcaster.on_message)
    return state


async def _shut_down(
    state: State, directory: asyncio.Task[None], workers: list[asyncio.Task[None]]
) -> None:
    """Stop fetching and finish the batches in hand, publish their changes, then drain."""
    state.consumer.stop()
    state.broadcaster.close()
    await state.directory.stop()
    if workers:
        await workers[0]  # the consumer settles the batches in hand...
        state.feed.stop()
        await workers[1]  # ...and the feed publishes what they changed
    directory.cancel()
    await asyncio.gather(directory, return_exceptions=True)
    await state.nc.drain()
    await state.pool.close()
