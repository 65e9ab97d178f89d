"""Every stream, consumer and subject of the aggregator, declared in one place.

The aggregator replicas share ONE durable pull consumer on `REPORTS`. Totals are commutative, so
replicas need no partitioning: whichever replica fetches a message applies it.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from warroom_aggregator.settings import AggregatorSettings
from warroom_shared import messaging

REPORTS = messaging.REPORTS_STREAM.name or "REPORTS"
REPORT_SUBJECTS = "warroom.report.>"
CONSUMER = "aggregator"

# Not under `warroom.report.>`: REPORTS would capture the dead letters and feed them back to us.
DEAD_LETTER_SUBJECT = "warroom.deadletter.aggregator"
DEAD_LETTER_STREAM = StreamConfig(
    name="AGGREGATOR_DEADLETTER",
    subjects=[DEAD_LETTER_SUBJECT],
    storage=StorageType.FILE,
    max_age=90 * 24 * 3600.0,  # seconds; the dead_letters table keeps them for good
    duplicate_window=600.0,
)

# Core NATS (not a stream): the latest totals matter, not their history.
TOTALS_SUBJECT_PREFIX = "warroom.totals.updated"
NATIONAL_CODE = "TH"


def totals_subject(scope: str, code: str) -> str:
    return f"{TOTALS_SUBJECT_PREFIX}.{scope}.{code}"


def consumer_config(settings: AggregatorSettings) -> ConsumerConfig:
    return ConsumerConfig(
        name=CONSUMER,
        durable_name=CONSUMER,
        description="Aggregator replicas: running totals of report events",
        filter_subject=REPORT_SUBJECTS,
        deliver_policy=DeliverPolicy.ALL,
        # Acked only after the totals commit: an unacked batch comes back, and is a no-op then.
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=settings.ack_wait,
        # A message that keeps failing must not be retried forever; the consumer dead-letters it
        # itself on its last delivery, so the server never drops one silently.
        max_deliver=settings.max_deliver,
        # Room for every replica's batches in flight (the server default is 1,000): 6 replicas
        # (the HPA's most) x 3 workers x 1,000 messages, with some to spare.
        max_ack_pending=20_000,
    )


async def ensure(js: JetStreamContext, settings: AggregatorSettings) -> None:
    """Create or update the durable consumer; safe from every replica at start. The streams must
    exist (`provision`): the aggregator's NATS user may not create or change a stream."""
    await js.add_consumer(REPORTS, consumer_config(settings))


async def provision(js: JetStreamContext, settings: AggregatorSettings) -> None:
    """Create or update every stream the aggregator uses, then its consumer (`prepare`)."""
    await messaging.ensure_topology(js, settings.stream_replicas)
    await messaging.ensure_stream(js, DEAD_LETTER_STREAM, settings.stream_replicas)
    await ensure(js, settings)
