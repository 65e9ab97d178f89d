"""Transactional outbox: an event row commits with the change it describes; a relay publishes it.

The relay claims rows with `FOR UPDATE SKIP LOCKED`, so several relays never publish one row at
the same time; it publishes a batch at once, then awaits the stream's acks (`publisher`;
`Nats-Msg-Id` = event id, so the stream drops a republish after a crash), deletes the rows once
the server has acked them, and wakes on LISTEN/NOTIFY with a polling fallback. The request path
never waits on NATS.

Through a NATS outage it publishes nothing (the client would only buffer it), and once the client
has reconnected it publishes again within a poll interval. A batch whose acks were still awaited
when the connection was lost is published again as soon as the client has reconnected: the server
that had it may be gone with it, and its acks would never come.

A row's headers carry the W3C `traceparent` of the request that stored it (`tracing`), so the
event reaches NATS with it.

Metrics, read from the database when Prometheus scrapes the service, so that they count every
relay of the database, in the service or run on its own (`warroom relay`, which has no HTTP
port): `warroom_outbox_backlog_rows`, `warroom_outbox_oldest_age_seconds` and
`warroom_outbox_published_total` (one counter row, moved in each batch's transaction). A relay in
the service also counts `warroom_outbox_publish_failures_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client as NATS
from prometheus_client import Counter
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from warroom_shared import tracing
from warroom_shared.db import Migration
from warroom_shared.events import Envelope, Event
from warroom_shared.metrics import Metrics
from warroom_shared.publisher import Publisher

log = logging.getLogger(__name__)

CHANNEL = "warroom_outbox"
RECONNECT_CHECK = 0.1  # seconds between looks at the NATS connection while acks are awaited

MIGRATION = Migration(
    "0000_outbox",
    f"""
    CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        subject text NOT NULL,
        payload bytea NOT NULL,
        headers jsonb NOT NULL DEFAULT '{{}}',
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$;
    CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
    """,
)


# Events published by every relay of this database, ever: a counter row moved in the same
# transaction that deletes the rows a batch published.
PUBLISHED_MIGRATION = Migration(
    "0000_outbox_published",
    """
    CREATE TABLE outbox_published (
        id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        events bigint NOT NULL
    );
    INSERT INTO outbox_published (events) VALUES (0);
    """,
)
MIGRATIONS = (MIGRATION, PUBLISHED_MIGRATION)


def outbox_record(envelope: Envelope, headers: dict[str, str] | None = None) -> tuple[object, ...]:
    """The row of one envelope, in the column order of `enqueue_many`. Its headers carry the
    trace of the request being handled, unless `headers` carry one already."""
    row_headers = {**tracing.propagation_headers(), **(headers or {})}
    return (envelope.id, envelope.subject, envelope.model_dump_json().encode(), row_headers)


async def enqueue(
    conn: asyncpg.Connection, event: Event, source: str, headers: dict[str, str] | None = None
) -> Envelope:
    """Add an event to the outbox inside the caller's transaction."""
    envelope = Envelope.wrap(event, source)
    await enqueue_many(conn, [outbox_record(envelope, headers)])
    return envelope


async def enqueue_many(conn: asyncpg.Connection, records: list[tuple[object, ...]]) -> None:
    await conn.copy_records_to_table(
        "outbox", records=records, columns=["event_id", "subject", "payload", "headers"]
    )


@dataclass(frozen=True, slots=True)
class Backlog:
    rows: int
    oldest_age_seconds: float


async def backlog(conn: asyncpg.Connection) -> Backlog:
    row = await conn.fetchrow("SELECT count(*) AS n, min(created_at) AS oldest FROM outbox")
    assert row is not None
    oldest: dt.datetime | None = row["oldest"]
    age = (dt.datetime.now(tz=dt.UTC) - oldest).total_seconds() if oldest else 0.0
    return Backlog(rows=row["n"], oldest_age_seconds=max(age, 0.0))


def backlog_figures(pool: asyncpg.Pool) -> Callable[[], Awaitable[list[Metric]]]:
    """The outbox backlog as metric families, for `Metrics.on_scrape`."""

    async def read() -> list[Metric]:
        async with pool.acquire() as conn:
            now = await backlog(conn)
            published = await conn.fetchval("SELECT events FROM outbox_published")
        return [
            CounterMetricFamily(
                "warroom_outbox_published",
                "Outbox events published to JetStream by every relay of this database",
                published or 0,
            ),
            GaugeMetricFamily(
                "warroom_outbox_backlog_rows", "Events stored but not yet published", now.rows
            ),
            GaugeMetricFamily(
                "warroom_outbox_oldest_age_seconds",
                "Age of the oldest event waiting in the outbox (0 when empty)",
                now.oldest_age_seconds,
            ),
        ]

    return read


# The rows a batch published, deleted, and counted: one statement, at the end of the batch's
# transaction, so that relays committing at once hold the counter's row lock briefly.
_PUBLISHED = """
WITH published AS (DELETE FROM outbox WHERE id = ANY($1::bigint[]) RETURNING id)
UPDATE outbox_published SET events = events + (SELECT count(*) FROM published)
"""


class OutboxRelay:
    """Publishes outbox rows to JetStream until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        nc: NATS,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        linger: float = 0.02,
        ack_timeout: float = 10.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._pool = pool
        self._nc = nc
        self._publisher = Publisher(nc)
        self._started = False
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._linger = linger
        self._ack_timeout = ack_timeout
        self._wake = asyncio.Event()
        self._stopping = False
        self.published = 0
        self._failures: Counter | None = None
        if metrics is not None:
            self._failures = metrics.counter(
                "warroom_outbox_publish_failures_total",
                "Outbox batches that could not be published (retried)",
            )

    async def run(self) -> None:
        """Publish until `stop()`. When the database drops the listening connection (a restart,
        an outage), listen again on a new one: meanwhile the poll interval still publishes."""
        while not self._stopping:
            try:
                await self._listen_and_publish()
            except Exception:  # the listening connection is gone: take another one
                log.warning("outbox relay: lost its database connection; again", exc_info=True)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def _listen_and_publish(self) -> None:
        # One connection listens and publishes: a batch's transaction on a connection from the
        # pool would cost a round trip more to give it back (the pool resets it)
        async with self._pool.acquire() as conn:
            await conn.add_listener(CHANNEL, self._on_notify)
            try:
                while not self._stopping and not _closed(conn):
                    self._wake.clear()  # before publishing, so a notify meanwhile is not lost
                    await self._publish_until_empty(conn)
                    if not self._stopping:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                        # Under load every commit notifies: linger a moment so that one batch
                        # carries many rows instead of one query and publish per report.
                        await asyncio.sleep(self._linger)
            finally:
                if not _closed(conn):
                    await conn.remove_listener(CHANNEL, self._on_notify)
                else:  # lost in the middle of a batch, it may still hold the listener: freed too
                    with contextlib.suppress(asyncpg.InterfaceError):  # given back already
                        conn.terminate()

    def stop(self) -> None:
        """Finish the batch in hand, then return from `run`."""
        self._stopping = True
        self._wake.set()

    async def _publish_until_empty(self, conn: asyncpg.Connection) -> None:
        try:
            while not self._stopping and await self.publish_batch(conn) == self._batch_size:
                pass
        except NatsReconnected:
            log.warning("outbox relay: NATS reconnected while a batch awaited its acks; again")
            self._failed()
            self._wake.set()  # at once, not after a poll interval
        except Exception:  # broker or database down: retry, never die
            log.exception("outbox relay: publish failed; retrying")
            self._failed()

    def _failed(self) -> None:
        if self._failures is not None:
            self._failures.inc()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unsent rows; returns how many were published (none while NATS
        is disconnected)."""
        if not self._nc.is_connected:
            return 0
        reconnects = self._nc.stats["reconnects"]
        async with conn.transaction():
            rows = await conn.fetch(
                "SELECT id, event_id, subject, payload, headers FROM outbox "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size,
            )
            if not rows:
                return 0
            if not self._started:  # its acks' subscription, made once (nats-py keeps it)
                await self._publisher.start()
                self._started = True
            acked = await self._publisher.send(
                [
                    (
                        r["subject"],
                        r["payload"],
                        {**r["headers"], "Nats-Msg-Id": str(r["event_id"])},
                    )
                    for r in rows
                ]
            )
            await self._acks(acked, reconnects)
            await conn.execute(_PUBLISHED, [r["id"] for r in rows])
        self.published += len(rows)
        return len(rows)

    async def _acks(self, acked: asyncio.Future[None], reconnects: int) -> None:
        """Until the stream has acked a batch; `NatsReconnected` as soon as the client has
        reconnected since the batch was sent (acks lost with a connection never come)."""
        try:
            async with asyncio.timeout(self._ack_timeout):
                while not acked.done():
                    if self._nc.stats["reconnects"] != reconnects:
                        raise NatsReconnected
                    await asyncio.wait([acked], timeout=RECONNECT_CHECK)
        finally:
            acked.cancel()  # a no-op once done; else forgets the batch, its late acks dropped
        acked.result()


class NatsReconnected(Exception):
    """The connection to NATS was lost and made again while a batch waited for its acks."""


def _closed(conn: asyncpg.Connection) -> bool:
    """Whether a pooled connection is gone (the pool releases one the server closed)."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True
