"""What became of each message of a batch, and settling it with JetStream afterwards.

Settling happens only after the transaction committed: ack what was applied, dead-lettered or a
duplicate; nak (with a growing delay) what the database refused but may accept later.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import dataclass, field

import asyncpg
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from warroom_aggregator.events import ReportEnvelope
from warroom_aggregator.store import DeadLetter
from warroom_aggregator.topology import DEAD_LETTER_SUBJECT
from warroom_shared import tracing
from warroom_shared.events import DeadLetterHeaders

log = logging.getLogger(__name__)

# SQLSTATE classes that say "try again later", not "this data is wrong": connection exception,
# transaction rollback (deadlock, serialization), insufficient resources, operator
# intervention (shutdown), system error.
TRANSIENT_SQLSTATE_CLASSES = {"08", "40", "53", "57", "58"}


@dataclass(slots=True)  # not frozen: one per message, and a frozen __init__ costs twice as much
class Decoded:
    msg: Msg
    seq: int  # stream sequence: unique per message, the key of a dead letter
    deliveries: int
    envelope: ReportEnvelope | None
    poison: str | None = None  # why it can never be counted, when it cannot
    traceparent: str | None = None  # the W3C trace context the event was published with
    tracestate: str | None = None

    def dead_letter(self, reason: str) -> DeadLetter:
        return DeadLetter(
            self.seq, self.msg.subject, reason, self.deliveries, self.msg.data, self.traceparent
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    applied: list[ReportEnvelope] = field(default_factory=list)
    duplicates: int = 0
    letters: list[DeadLetter] = field(default_factory=list)
    nak: list[Decoded] = field(default_factory=list)

    def merge(self, other: Outcome) -> Outcome:
        return Outcome(
            self.applied + other.applied,
            self.duplicates + other.duplicates,
            self.letters + other.letters,
            self.nak + other.nak,
        )


@dataclass(slots=True)
class Stats:
    batches: int = 0
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    redelivery_requested: int = 0
    retries: int = 0  # batch retried in place while the database was unavailable

    def add(self, outcome: Outcome) -> None:
        self.batches += 1
        self.applied += len(outcome.applied)
        self.duplicates += outcome.duplicates
        self.dead_lettered += len(outcome.letters)
        self.redelivery_requested += len(outcome.nak)

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.InvalidCachedStatementError):
        return True  # a table was swapped by a rebuild: the statement is prepared again
    if isinstance(exc, asyncpg.PostgresError):
        return (exc.sqlstate or "")[:2] in TRANSIENT_SQLSTATE_CLASSES
    return isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError)


async def keep(items: list[Decoded]) -> None:
    """Tell JetStream the batch is still being worked on, so it is not redelivered meanwhile."""
    for item in items:
        with contextlib.suppress(Exception):
            await item.msg.in_progress()


async def settle(
    js: JetStreamContext, items: list[Decoded], outcome: Outcome, retry_delay: float
) -> None:
    states = {i.seq: i.tracestate for i in items if i.tracestate}
    unpublished = await publish_dead_letters(js, outcome.letters, states)
    nak = {i.seq for i in outcome.nak}
    try:
        for item in items:
            if item.seq in nak:
                await item.msg.nak(delay=retry_delay * 2 ** (item.deliveries - 1))
            elif item.seq not in unpublished:
                await item.msg.ack()
    except Exception:  # broker away: unacked messages come back and are no-ops then
        log.warning("could not settle a batch; it will be redelivered", exc_info=True)


async def publish_dead_letters(
    js: JetStreamContext, letters: list[DeadLetter], tracestates: dict[int, str] | None = None
) -> set[int]:
    """Publish each dead letter's raw data, with the trace context of the original event;
    returns the sequences that could not be published (left unacked, so they come back and are
    published then; their row is already kept)."""
    failed = set()
    for letter in letters:
        headers = DeadLetterHeaders(
            msg_id=f"aggregator-deadletter-{letter.stream_seq}",
            reason=" ".join(letter.reason.split())[:1000],
            subject=letter.subject,
            stream_seq=letter.stream_seq,
            deliveries=letter.deliveries,
            traceparent=letter.traceparent,
            tracestate=(tracestates or {}).get(letter.stream_seq) if letter.traceparent else None,
        ).as_headers()
        trace = tracing.parse(letter.traceparent)
        log.warning(
            "dead-lettered %s (stream seq %d): %s", letter.subject, letter.stream_seq,
            letter.reason,
            extra={"stream_seq": letter.stream_seq, "subject": letter.subject,
                   **({"trace_id": trace.trace_id, "parent_span_id": trace.parent_id}
                      if trace else {})},
        )  # fmt: skip
        try:
            await js.publish(DEAD_LETTER_SUBJECT, letter.data, headers=headers)
        except Exception:
            log.warning("could not publish dead letter %s", letter.stream_seq, exc_info=True)
            failed.add(letter.stream_seq)
    return failed
