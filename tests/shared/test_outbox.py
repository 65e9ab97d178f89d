"""The outbox relay through a NATS restart, on real servers: it publishes again about a second
after the client has reconnected, including the batch whose acks went away with the server."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NATS

from warroom_cli.embedded import EmbeddedNats
from warroom_reporting import SCHEMA
from warroom_shared import db, messaging
from warroom_shared.outbox import OutboxRelay


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, SCHEMA)
    yield pool
    await pool.close()


async def add_event(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3)",
        uuid.uuid4(), "warroom.report.submitted.10.1001", b"{}",
    )  # fmt: skip


async def until_stored(url: str, count: int, timeout: float) -> None:
    """Until the REPORTS stream holds `count` messages, asked on a connection of its own."""
    probe = await nats.connect(url)
    try:
        async with asyncio.timeout(timeout):
            while (await probe.jetstream().stream_info("REPORTS")).state.messages < count:
                await asyncio.sleep(0.05)
    finally:
        await probe.close()


async def test_relay_publishes_again_soon_after_nats_restarts(
    own_nats: EmbeddedNats, pool: asyncpg.Pool
) -> None:
    """A server that stops answering and is restarted takes the batch in flight with it. The
    ack timeout is far longer than the test waits: only noticing the reconnect can pass."""
    nc: NATS = await messaging.connect(own_nats.url, "test-relay")
    relay = OutboxRelay(pool, nc, ack_timeout=60)
    task = asyncio.create_task(relay.run())
    try:
        await messaging.ensure_topology(nc.jetstream())
        await add_event(pool)
        await until_stored(own_nats.url, 1, timeout=10)

        assert own_nats.proc is not None
        own_nats.proc.send_signal(signal.SIGSTOP)  # it reads nothing more and answers nothing
        sent = nc.stats["out_msgs"]
        await add_event(pool)
        async with asyncio.timeout(10):  # the relay has written it out and waits for its ack
            while nc.stats["out_msgs"] == sent or nc.pending_data_size:
                await asyncio.sleep(0.01)
        own_nats.proc.kill()
        await asyncio.to_thread(own_nats.proc.wait)
        own_nats.start()  # the same store: the stream and its first message are back

        await until_stored(own_nats.url, 2, timeout=10)
    finally:
        relay.stop()
        await task
        await nc.close()
    assert relay.published == 2
