"""The batch puller against a real nats-server: full batches at once, a lone message without
waiting for a batch to fill, nothing lost or repeated, and a clear error for a missing consumer."""

import asyncio

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from warroom_shared.puller import Puller, PullError

STREAM, CONSUMER = "PULLED", "reader"


@pytest.fixture
async def puller(nc: NATS) -> Puller:
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["pulled.>"])
    config = ConsumerConfig(durable_name=CONSUMER, ack_policy=AckPolicy.EXPLICIT, ack_wait=30)
    await js.add_consumer(STREAM, config)
    return await Puller(nc, STREAM, CONSUMER).start()


async def publish(nc: NATS, n: int, first: int = 0) -> None:
    js = nc.jetstream()
    for i in range(first, first + n):
        await js.publish(f"pulled.{i}", str(i).encode())


async def test_fetch_takes_what_is_there_in_batches_each_message_once(
    nc: NATS, puller: Puller
) -> None:
    await publish(nc, 1250)
    batches: list[list[int]] = []
    while sum(map(len, batches)) < 1250:
        msgs = await puller.fetch(500, expires=5)
        assert msgs, "a fetch with messages waiting came back empty"
        for msg in msgs:
            await msg.ack()
        batches.append([int(m.data) for m in msgs])
    assert [len(b) for b in batches] == [500, 500, 250]
    assert [i for b in batches for i in b] == list(range(1250))


async def requests_waiting(nc: NATS) -> int:
    """Pull requests waiting on the consumer, as the server counts them."""
    return (await nc.jetstream().consumer_info(STREAM, CONSUMER)).num_waiting or 0


async def waiting_on_the_server(nc: NATS, fetch: asyncio.Task[list[Msg]]) -> bool:
    """Whether `fetch`'s request came to wait on the server (asked until it does or ends)."""
    async with asyncio.timeout(10):
        while not fetch.done():
            if await requests_waiting(nc):
                return True
            await asyncio.sleep(0.01)
    return False


async def test_fetch_with_nothing_there_waits_expires_and_answers_nothing(
    nc: NATS, puller: Puller
) -> None:
    fetch = asyncio.create_task(puller.fetch(500, expires=3))
    waited = await waiting_on_the_server(nc, fetch)
    async with asyncio.timeout(10):  # the request's 3 s and the puller's grace, with room
        assert await fetch == []
    assert waited
    assert await requests_waiting(nc) == 0  # expired: nothing left outstanding


async def test_fetch_answers_a_lone_message_without_waiting_for_a_batch(
    nc: NATS, puller: Puller
) -> None:
    fetch = asyncio.create_task(puller.fetch(500, expires=3600))  # a batch would wait an hour
    assert await waiting_on_the_server(nc, fetch)
    await publish(nc, 1)
    async with asyncio.timeout(10):
        msgs = await fetch
    assert [m.data for m in msgs] == [b"0"]


async def test_fetch_unacked_messages_come_back_after_ack_wait(nc: NATS) -> None:
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["pulled.>"])
    config = ConsumerConfig(durable_name=CONSUMER, ack_policy=AckPolicy.EXPLICIT, ack_wait=1)
    await js.add_consumer(STREAM, config)
    puller = await Puller(nc, STREAM, CONSUMER).start()
    await publish(nc, 3)
    first = await puller.fetch(10, expires=2)
    again = []  # none acked: each is redelivered after ack_wait
    while len(again) < 3:
        again += await puller.fetch(10, expires=3)
    assert [m.data for m in first] == [m.data for m in again] == [b"0", b"1", b"2"]
    assert [m.metadata.num_delivered for m in again] == [2, 2, 2]


async def test_fetch_from_missing_consumer_raises_pull_error(nc: NATS) -> None:
    await nc.jetstream().add_stream(name=STREAM, subjects=["pulled.>"])
    puller = await Puller(nc, STREAM, "nobody").start()
    with pytest.raises(PullError, match="no such consumer"):
        await puller.fetch(10, expires=1)
    assert await puller.stop() == []


async def test_fetch_ended_by_consumer_deleted_raises_pull_error(nc: NATS, puller: Puller) -> None:
    """A waiting request the server ends with 409 and no message (here: its consumer deleted)
    is an error the caller hears of and backs off from, not an empty answer."""

    fetch = asyncio.create_task(puller.fetch(10, expires=3600))
    assert await waiting_on_the_server(nc, fetch)
    await nc.jetstream().delete_consumer(STREAM, CONSUMER)
    async with asyncio.timeout(10):
        with pytest.raises(PullError, match="409"):
            await fetch
