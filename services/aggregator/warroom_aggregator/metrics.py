"""The aggregator's metrics: its consumer's batches (counted as they are applied) and the shared
durable consumer's backlog and the dead letters kept (read when Prometheus scrapes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from nats.js import JetStreamContext
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from warroom_aggregator.outcomes import Outcome
from warroom_aggregator.topology import CONSUMER, REPORTS
from warroom_shared.metrics import Metrics

# Messages per fetched batch (at most `batch_size`, 500 by default).
BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)


class ConsumerMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.batch_size = metrics.histogram(
            "warroom_aggregator_batch_size", "Messages per batch fetched and applied",
            buckets=BATCH_BUCKETS,
        )  # fmt: skip
        self.apply_seconds = metrics.histogram(
            "warroom_aggregator_apply_seconds",
            "Time to apply a batch to the totals, retries included, until it committed",
        )
        self.events = metrics.counter(
            "warroom_aggregator_events_total",
            "Report events settled by this replica, by outcome (applied, duplicate, "
            "redelivery_requested)",
            ("outcome",),
        )
        self.dead_lettered = metrics.counter(
            "warroom_aggregator_dead_lettered_total",
            "Report events this replica dead-lettered (they can never be counted)",
        )

    def observe(self, size: int, seconds: float, outcome: Outcome) -> None:
        self.batch_size.observe(size)
        self.apply_seconds.observe(seconds)
        self.events.labels("applied").inc(len(outcome.applied))
        self.events.labels("duplicate").inc(outcome.duplicates)
        self.events.labels("redelivery_requested").inc(len(outcome.nak))
        self.dead_lettered.inc(len(outcome.letters))


def consumer_figures(js: JetStreamContext) -> Callable[[], Awaitable[list[Metric]]]:
    """The durable consumer's state as JetStream reports it (shared by every replica)."""
    labels = ["stream", "consumer"]

    async def read() -> list[Metric]:
        info = await js.consumer_info(REPORTS, CONSUMER, timeout=2)
        figures = {
            "warroom_consumer_pending_messages": (
                "Messages in the stream not yet delivered to the consumer", info.num_pending),
            "warroom_consumer_ack_pending_messages": (
                "Messages delivered but not yet acknowledged", info.num_ack_pending),
            "warroom_consumer_redelivered_messages": (
                "Messages delivered more than once and not yet acknowledged",
                info.num_redelivered),
            "warroom_consumer_ack_floor_stream_seq": (
                "Stream sequence up to which every message is acknowledged",
                info.ack_floor.stream_seq if info.ack_floor else 0),
        }  # fmt: skip
        families: list[Metric] = []
        for name, (documentation, value) in figures.items():
            family = GaugeMetricFamily(name, documentation, labels=labels)
            family.add_metric([REPORTS, CONSUMER], float(value or 0))
            families.append(family)
        return families

    return read


def dead_letter_figures(pool: asyncpg.Pool) -> Callable[[], Awaitable[list[Metric]]]:
    async def read() -> list[Metric]:
        async with pool.acquire() as conn:
            count = await conn.fetchval("SELECT count(*) FROM dead_letters")
        return [
            GaugeMetricFamily(
                "warroom_aggregator_dead_letters", "Dead letters kept (all replicas)", count
            )
        ]

    return read
