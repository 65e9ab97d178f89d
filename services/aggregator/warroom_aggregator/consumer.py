"""The live consumer: batches from the shared durable consumer, applied exactly once, then acked.

Each worker fetches up to `batch_size` messages and applies them in ONE transaction (one
statement, see `store`); only once that has committed does it ack every message. A crash
between commit and ack redelivers a batch that `processed_events` turns into a no-op. Several
workers per replica overlap one batch's fetch with another's commit; several replicas share the
same durable consumer.

Failures:
- a message that does not parse can never be counted: dead-lettered at once;
- the database unreachable, a deadlock, a restart: the batch is retried in place, its messages
  kept with `in_progress()`, so an outage spends no deliveries and drops nothing;
- the database refusing the batch, or the batch failing again while the database answers (an
  error that looks like an outage, such as a statement timeout, but comes from the data): each
  message is applied alone, and one that fails on its last delivery (`max_deliver`) is
  dead-lettered, so one bad message never blocks the stream nor is dropped by JetStream. On that
  last delivery it is retried in place for as long as the database does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import NamedTuple

import asyncpg
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from warroom_aggregator import outcomes, store
from warroom_aggregator.events import Figures, Poison, ReportEnvelope, deltas, parse
from warroom_aggregator.metrics import ConsumerMetrics
from warroom_aggregator.outcomes import Decoded, Outcome
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.topology import CONSUMER, REPORTS
from warroom_shared import tracing
from warroom_shared.metrics import Metrics
from warroom_shared.puller import Puller

log = logging.getLogger(__name__)

# The figures a committed batch moved, and whether more than a batch was still waiting behind it.
OnApplied = Callable[[Sequence[Figures], bool], None]

# A deadlock or a dropped connection passes when retried; a batch that fails again while the
# database answers holds a message it cannot take.
RETRIES_WHILE_ANSWERING = 1
PROBE_TIMEOUT = 5.0  # seconds: a database that does not answer a `SELECT 1` by then is away


class Delivery(NamedTuple):
    seq: int  # in the stream
    deliveries: int
    pending: int  # messages the consumer has still to deliver after this one


def delivery(reply: str) -> Delivery:
    """What a JetStream message's ack subject says: `$JS.ACK.<stream>.<consumer>.<deliveries>.
    <stream seq>.<consumer seq>.<time>.<pending>`, or with a domain and an account hash after
    `ACK` (and a token at the end). nats-py's `Msg.metadata` also builds a datetime and three
    dataclasses a message: a tenth of the consumer's CPU during a backlog."""
    tokens = reply.split(".")
    at = 4 if len(tokens) == 9 else 6
    return Delivery(int(tokens[at + 1]), int(tokens[at]), int(tokens[at + 4]))


def decode(msg: Msg) -> Decoded:
    seq, deliveries, _ = delivery(msg.reply)
    headers = msg.headers or {}
    trace = headers.get(tracing.TRACEPARENT), headers.get(tracing.TRACESTATE)
    try:
        return Decoded(msg, seq, deliveries, parse(msg.data), None, *trace)
    except Poison as poison:
        return Decoded(msg, seq, deliveries, None, str(poison), *trace)


def log_applied(items: Sequence[Decoded], outcome: Outcome) -> None:
    """A line per trace of what a batch applied: its `trace_id` (the request that caused the
    events) and the events, so a report can be followed from its POST to the totals."""
    if not outcome.applied or not log.isEnabledFor(logging.INFO):
        return
    by_id = {i.envelope.id: i for i in items if i.envelope is not None}
    traces: dict[str | None, list[Decoded]] = {}
    for envelope in outcome.applied:
        item = by_id[envelope.id]
        traces.setdefault(item.traceparent, []).append(item)
    for traceparent, applied in traces.items():
        parent = tracing.parse(traceparent)
        fields: dict[str, object] = {
            "events": [
                {"id": str(i.envelope.id), "subject": i.msg.subject, "stream_seq": i.seq}
                for i in applied
                if i.envelope is not None
            ]
        }
        if parent is not None:
            fields |= {"trace_id": parent.trace_id, "parent_span_id": parent.parent_id}
        log.info("applied %d report events", len(applied), extra=fields)


async def apply_batch(
    conn: asyncpg.Connection, items: Sequence[Decoded], tables: store.Tables = store.LIVE
) -> Outcome:
    """Apply a batch in one statement: record ids, move totals, keep dead letters."""
    first: dict[uuid.UUID, tuple[ReportEnvelope, int]] = {}  # one event twice counts once
    for item in items:
        if item.envelope is not None:
            first.setdefault(item.envelope.id, (item.envelope, item.seq))
    rows = [(seq, *f.row(sign)) for e, seq in first.values() for f, sign in deltas(e)]
    letters = [i.dead_letter(i.poison) for i in items if i.poison is not None]
    events = [(event_id, seq) for event_id, (_, seq) in first.items()]
    new = await store.apply(conn, tables, events, rows, letters)
    applied = [envelope for envelope, seq in first.values() if seq in new]
    duplicates = len(items) - len(applied) - len(letters)
    return Outcome(applied=applied, duplicates=duplicates, letters=letters)


class Consumer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        nc: NATS,
        settings: AggregatorSettings,
        on_applied: OnApplied | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._pool = pool
        self._nc = nc
        self._js = nc.jetstream()
        self._settings = settings
        self._on_applied = on_applied
        self._stopping = False
        self.stats = outcomes.Stats()
        self._metrics = ConsumerMetrics(metrics) if metrics is not None else None

    async def run(self) -> None:
        """Run the workers until `stop()`; each finishes the batch in hand before returning."""
        await asyncio.gather(*(self._work() for _ in range(self._settings.consumer_workers)))

    def stop(self) -> None:
        self._stopping = True

    async def _work(self) -> None:
        puller = await Puller(self._nc, REPORTS, CONSUMER).start()
        try:
            while not self._stopping:
                msgs = await self._fetch(puller)
                if not msgs:
                    continue
                try:
                    await self.handle(msgs)
                except Exception:  # never let a worker die: unacked messages come back later
                    log.exception("batch failed; it will be redelivered")
        finally:
            for msg in await puller.stop():  # arrived after the last fetch: another's to take
                with contextlib.suppress(Exception):
                    await msg.nak()

    async def _fetch(self, puller: Puller) -> list[Msg]:
        try:
            return await puller.fetch(self._settings.batch_size, self._settings.fetch_timeout)
        except Exception:  # the broker may be away (the client reconnects by itself) or refuse
            log.warning("fetch failed; retrying", exc_info=True)
            await asyncio.sleep(self._settings.fetch_timeout)
            return []

    async def handle(self, msgs: Sequence[Msg]) -> None:
        """Apply one fetched batch, then settle every message (ack, nak or dead-letter)."""
        items = [decode(m) for m in msgs]
        started = time.perf_counter()
        outcome = await self._apply_with_retries(items)
        if outcome is None:  # stopping during an outage: hand the batch to another replica now
            await self.settle(items, Outcome(nak=items), retry_delay=0)
            return
        self.stats.add(outcome)
        if self._metrics is not None:
            self._metrics.observe(len(items), time.perf_counter() - started, outcome)
        log_applied(items, outcome)
        if self._on_applied is not None and outcome.applied:
            behind = delivery(msgs[-1].reply).pending >= self._settings.batch_size
            self._on_applied([f for e in outcome.applied for f, _ in deltas(e)], behind)
        await self.settle(items, outcome, self._settings.retry_delay)

    async def settle(self, items: list[Decoded], outcome: Outcome, retry_delay: float) -> None:
        """Ack, nak or dead-letter each message: only ever after the batch committed."""
        await outcomes.settle(self._js, items, outcome, retry_delay)

    async def _apply_with_retries(self, items: list[Decoded]) -> Outcome | None:
        delay, answered = 0.5, 0
        while True:
            try:
                async with self._pool.acquire() as conn:  # one statement: its own transaction
                    return await apply_batch(conn, items)
            except Exception as exc:
                if outcomes.is_transient(exc) and await self._database_answers():
                    answered += 1
                if not outcomes.is_transient(exc) or answered > RETRIES_WHILE_ANSWERING:
                    log.warning("batch refused; applying its messages one by one", exc_info=True)
                    return await self._apply_one_by_one(items)
                if self._stopping:
                    return None
                log.warning("database unavailable; retrying the batch: %s", exc)
                self.stats.retries += 1
                await outcomes.keep(items)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _apply_one_by_one(self, items: list[Decoded]) -> Outcome:
        total = Outcome()
        for item in items:
            try:
                async with self._pool.acquire() as conn:
                    total = total.merge(await apply_batch(conn, [item]))
            except Exception as exc:  # noqa: BLE001 - any failure: this message is refused
                total = total.merge(await self._refused(item, exc))
        return total

    async def _refused(self, item: Decoded, exc: Exception) -> Outcome:
        """A message that failed alone: redelivered later, or dead-lettered on its last delivery,
        where a nak would let JetStream drop it."""
        if item.deliveries < self._settings.max_deliver:
            return Outcome(nak=[item])
        delay, answered = 0.5, 0
        while outcomes.is_transient(exc):  # the same rule as for a batch, but in place only
            if await self._database_answers():
                answered += 1
            if answered > RETRIES_WHILE_ANSWERING:
                break
            if self._stopping:
                return Outcome(nak=[item])  # no database to keep a dead letter in
            await outcomes.keep([item])
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            try:
                async with self._pool.acquire() as conn:
                    return await apply_batch(conn, [item])
            except Exception as again:  # noqa: BLE001 - judged again by the loop
                exc = again
        letter = item.dead_letter(f"refused by the database: {type(exc).__name__}: {exc}")
        try:
            async with self._pool.acquire() as conn:
                await store.apply(conn, store.LIVE, [], [], [letter])
        except Exception:
            log.warning("could not keep dead letter %s", item.seq, exc_info=True)
            return Outcome(nak=[item])
        return Outcome(letters=[letter])

    async def _database_answers(self) -> bool:
        """Whether the database answers at all: tells an outage from a failure of the data."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT), self._pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except Exception:  # noqa: BLE001 - whatever the reason, it does not answer
            return False
        return True
