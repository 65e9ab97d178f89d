import asyncio
import json
import random

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from tests.aggregator.events import Reports, figures, publish
from tests.aggregator.helpers import (
    eventually,
    read_raw,
    read_totals,
    running,
    wait_drained,
    wait_for_totals,
)
from tests.utils.apps import serve
from warroom_aggregator import SCHEMA
from warroom_aggregator.app import create_app
from warroom_aggregator.consumer import Consumer, delivery
from warroom_aggregator.outcomes import Decoded, Outcome
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.topology import DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT
from warroom_shared import db


@pytest.mark.parametrize(
    "reply",
    [
        "$JS.ACK.REPORTS.aggregator.3.1042.977.1764460800000000000.18",
        "$JS.ACK._.ACCHASH.REPORTS.aggregator.3.1042.977.1764460800000000000.18.RnD",
        "$JS.ACK.hub.ACCHASH.REPORTS.aggregator.3.1042.977.1764460800000000000.18",
    ],
)
def test_delivery_reads_ack_subject_as_nats_py_does(reply: str) -> None:
    meta = Msg.Metadata._from_reply(reply)
    expected = (meta.sequence.stream, meta.num_delivered, meta.num_pending)
    assert delivery(reply) == expected == (1042, 3, 18)


async def processed_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM processed_events"))


async def test_consume_report_lives_totals_match_ground_truth(
    consumer: Consumer, pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    reports = Reports()
    reports.lives(300)
    await publish(js, reports.envelopes)

    async with running(consumer):
        await wait_for_totals(pool, reports.truth())
        await wait_drained(js)

    assert consumer.stats.applied == len(reports.envelopes)
    assert consumer.stats.duplicates == 0
    assert await processed_count(pool) == len(reports.envelopes)


class WithholdsAcks(Consumer):
    """Commits every batch but never acks: JetStream redelivers each message after ack_wait."""

    async def settle(self, items: list[Decoded], outcome: Outcome, retry_delay: float) -> None:
        return None


async def test_consume_redelivered_events_changes_nothing(
    pool: asyncpg.Pool, nc: NATS, js: JetStreamContext, settings: AggregatorSettings
) -> None:
    reports = Reports()
    reports.lives(200)
    await publish(js, reports.envelopes)
    withholding = WithholdsAcks(pool, nc, settings)
    async with running(withholding):
        await eventually(lambda: asyncio.sleep(0, withholding.stats), lambda s: s.duplicates > 0)

    acking = Consumer(pool, nc, settings)
    async with running(acking):
        await wait_drained(js)

    assert withholding.stats.applied == len(reports.envelopes)
    assert acking.stats.applied == 0
    assert acking.stats.duplicates >= len(reports.envelopes)
    assert await read_totals(pool) == reports.truth()
    assert await processed_count(pool) == len(reports.envelopes)


class HangsAfterCommit(Consumer):
    """Commits a batch, then hangs before acking it, like a process frozen at the worst time."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.committed = asyncio.Event()

    async def settle(self, items: list[Decoded], outcome: Outcome, retry_delay: float) -> None:
        self.committed.set()
        await asyncio.Event().wait()


async def test_consume_after_crash_between_commit_and_ack_counts_once(
    pool: asyncpg.Pool, nats_url: str, nc: NATS, js: JetStreamContext, settings: AggregatorSettings
) -> None:
    reports = Reports()
    reports.lives(200)
    await publish(js, reports.envelopes)
    doomed_nc = await nats.connect(nats_url)
    small_batches = settings.model_copy(update={"batch_size": 50})
    doomed = HangsAfterCommit(pool, doomed_nc, small_batches)
    task = asyncio.create_task(doomed.run())
    await asyncio.wait_for(doomed.committed.wait(), 10)
    task.cancel()  # the crash: no ack ever leaves this process
    await asyncio.gather(task, return_exceptions=True)
    await doomed_nc.close()

    survivor = Consumer(pool, nc, settings)
    async with running(survivor):
        await wait_drained(js)

    assert doomed.stats.applied >= 50
    assert survivor.stats.duplicates >= 50  # the committed, never acked batches came back
    assert survivor.stats.applied + survivor.stats.duplicates >= len(reports.envelopes)
    assert await read_totals(pool) == reports.truth()
    assert await processed_count(pool) == len(reports.envelopes)


async def test_consume_with_two_replicas_counts_each_event_once(
    database_url: str, nats_url: str, pool: asyncpg.Pool, js: JetStreamContext,
    settings: AggregatorSettings,
) -> None:  # fmt: skip
    small_batches = settings.model_copy(update={"batch_size": 50})
    replicas = []
    for _ in range(2):
        replica_pool = await db.create_pool(database_url, SCHEMA)
        replica_nc = await nats.connect(nats_url)
        replicas.append((replica_pool, replica_nc))
    consumers = [Consumer(p, c, small_batches) for p, c in replicas]
    reports = Reports()
    reports.lives(1000)
    try:
        async with running(consumers[0]), running(consumers[1]):
            await publish(js, reports.envelopes, chunk=100)
            await wait_drained(js)
    finally:
        for replica_pool, replica_nc in replicas:
            await replica_nc.close()
            await replica_pool.close()

    assert all(c.stats.applied > 0 for c in consumers)
    assert sum(c.stats.applied for c in consumers) == len(reports.envelopes)
    assert await read_totals(pool) == reports.truth()


async def test_consume_events_in_any_order_gives_same_totals(
    consumer: Consumer, pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    reports = Reports()
    reports.lives(300)
    shuffled = list(reports.envelopes)
    random.Random(7).shuffle(shuffled)
    backwards = list(reversed(reports.envelopes))  # retractions before their submissions
    assert shuffled != reports.envelopes

    async with running(consumer):
        await publish(js, backwards[:150])
        await publish(js, shuffled)  # the first 150 again: duplicates, dropped or deduped
        await wait_drained(js)

    assert await read_totals(pool) == reports.truth()
    assert await processed_count(pool) == len(reports.envelopes)


UNKNOWN_TYPE = b'{"id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "type": "x.y.v9", "data": {}}'


async def test_consume_poison_messages_dead_letters_them(
    consumer: Consumer, pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    reports = Reports()
    reports.lives(100)
    valid = reports.envelopes[0].model_dump(mode="json")
    valid["data"]["figures"]["quarter"] = 9
    poison = [b"\x00\xffnot json at all", UNKNOWN_TYPE, json.dumps(valid).encode()]
    await publish(js, reports.envelopes[:50])
    for data in poison:
        await js.publish("warroom.report.submitted.10.1001", data)
    await publish(js, reports.envelopes[50:])

    async with running(consumer):
        await wait_drained(js)

    assert await read_totals(pool) == reports.truth()
    assert consumer.stats.dead_lettered == 3
    letters = await pool.fetch("SELECT reason, data FROM dead_letters ORDER BY stream_seq")
    assert [r["data"] for r in letters] == poison
    assert "JSON is malformed" in letters[0]["reason"]
    assert "x.y.v9" in letters[1]["reason"]
    assert "quarter" in letters[2]["reason"]
    published = await read_raw(js, DEAD_LETTER_STREAM.name or "", 3)
    assert [m.data for m in published] == poison
    assert all(m.subject == DEAD_LETTER_SUBJECT for m in published)
    assert all(m.headers and m.headers["Warroom-Reason"] for m in published)
    assert {(m.headers or {}).get("Warroom-Subject") for m in published} == {
        "warroom.report.submitted.10.1001"
    }


async def test_consume_event_refused_by_database_dead_letters_it_on_last_delivery(
    consumer: Consumer, pool: asyncpg.Pool, js: JetStreamContext, settings: AggregatorSettings
) -> None:
    # A fault no parser can see: the database refuses every bucket of district 9601.
    await pool.execute("ALTER TABLE totals ADD CONSTRAINT refuse_9601 CHECK (code <> '9601')")
    reports = Reports()
    accepted = [reports.submit(figures(district="1001")) for _ in range(20)]
    refused = reports.submit(figures(district="9601"))
    await publish(js, reports.envelopes)

    async with running(consumer):
        await wait_drained(js)

    del reports.current[refused]
    assert len(accepted) == 20
    assert await read_totals(pool) == reports.truth()
    letter = await pool.fetchrow("SELECT reason, deliveries FROM dead_letters")
    assert letter is not None
    assert letter["deliveries"] == settings.max_deliver
    assert "refused by the database" in letter["reason"]
    assert "refuse_9601" in letter["reason"]
    assert consumer.stats.redelivery_requested == settings.max_deliver - 1


async def test_consume_through_database_outage_loses_nothing(
    consumer: Consumer, pool: asyncpg.Pool, js: JetStreamContext, database_url: str
) -> None:
    reports = Reports()
    reports.lives(200)
    admin = await asyncpg.connect(database_url)
    try:
        lock = admin.transaction()
        await lock.start()  # the consumer's batch waits on this lock, then loses its connection
        await admin.execute("LOCK TABLE aggregator.processed_events IN ACCESS EXCLUSIVE MODE")
        async with running(consumer):
            await publish(js, reports.envelopes)
            await eventually(lambda: _waiting_backends(admin), lambda pids: len(pids) > 0)
            for pid in await _waiting_backends(admin):
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
            await eventually(lambda: asyncio.sleep(0, consumer.stats), lambda s: s.retries > 0)
            await lock.rollback()
            await wait_drained(js)
    finally:
        await admin.close()

    assert await read_totals(pool) == reports.truth()
    assert consumer.stats.dead_lettered == 0
    assert consumer.stats.applied == len(reports.envelopes)


async def _waiting_backends(admin: asyncpg.Connection) -> list[int]:
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database() AND pid <> pg_backend_pid()"
    )
    return [r["pid"] for r in rows]


TIMES_OUT_9601 = """
CREATE FUNCTION times_out_9601() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.code = '9601' THEN
        RAISE EXCEPTION 'canceling statement due to statement timeout'
            USING ERRCODE = 'query_canceled';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER times_out_9601 BEFORE INSERT ON totals
    FOR EACH ROW EXECUTE FUNCTION times_out_9601();
"""


async def test_consume_event_failing_like_an_outage_while_database_answers_dead_letters_it(
    pool: asyncpg.Pool, js: JetStreamContext, settings: AggregatorSettings
) -> None:
    # A fault that looks like an outage (a statement timeout is SQLSTATE class 57, as a
    # shutdown is) but comes from one event: every statement holding district 9601 fails so.
    await pool.execute(TIMES_OUT_9601)
    reports = Reports()
    for n in range(20):
        reports.submit(figures(district="1001"))
        if n == 10:
            refused = reports.submit(figures(district="9601"))
    await publish(js, reports.envelopes)  # before the consumer starts: fetched as one batch

    async with serve(create_app(settings)) as aggregator:
        letters = await eventually(
            lambda: aggregator.get("/v1/dead-letters"),
            lambda response: response.json()["count"] > 0,
        )
        await wait_drained(js)
        replica = (await aggregator.get("/v1/consumer")).json()["replica"]

    del reports.current[refused]
    assert await read_totals(pool) == reports.truth()
    assert await processed_count(pool) == 20
    assert replica["applied"] == 20
    [letter] = letters.json()["items"]
    assert letter["subject"] == "warroom.report.submitted.96.9601"
    assert letter["deliveries"] == settings.max_deliver
    assert "statement timeout" in letter["reason"]
