"""Reading the aggregator's state and waiting on it, with timeouts, never bare sleeps."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import asyncpg
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from tests.aggregator.events import Key, Truth, Vector
from warroom_aggregator.consumer import Consumer
from warroom_aggregator.store import FIGURE_COLUMNS, KEY_COLUMNS, LIVE, MONTH_KEY_COLUMNS, Tables
from warroom_aggregator.topology import CONSUMER, REPORTS

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 15.0
) -> T:
    """Probe until `done(value)`; the last value, or a TimeoutError showing it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not done within {timeout}s; last value: {value!r}"[:3000])
        await asyncio.sleep(0.02)  # polling interval of a bounded wait, not a synchronisation


async def read_totals(pool: asyncpg.Pool, table: str = "totals") -> dict[Key, Vector]:
    """Every bucket with a non-zero figure."""
    rows = await pool.fetch(
        f"SELECT {', '.join(KEY_COLUMNS + FIGURE_COLUMNS)} FROM {table} "
        f"WHERE {' OR '.join(f'{c} <> 0' for c in FIGURE_COLUMNS)}"
    )
    return {tuple(r[c] for c in KEY_COLUMNS): [r[c] for c in FIGURE_COLUMNS] for r in rows}  # type: ignore[misc]


async def read_all(pool: asyncpg.Pool, tables: Tables = LIVE) -> Truth:
    """Every row with a non-zero count of each counting table."""
    nonzero = " OR ".join(f"{c} <> 0" for c in FIGURE_COLUMNS)
    months = await pool.fetch(
        f"SELECT {', '.join(MONTH_KEY_COLUMNS + FIGURE_COLUMNS)} FROM {tables.months} "
        f"WHERE {nonzero}"
    )
    received = await pool.fetch(f"SELECT * FROM {tables.received} WHERE reports <> 0")
    villages = await pool.fetch(f"SELECT * FROM {tables.villages} WHERE reports <> 0")
    received_keys = ("district", "fiscal_year", "quarter", "received_on")
    village_keys = ("district", "fiscal_year", "quarter", "subdistrict_code", "village_no")
    return Truth(
        await read_totals(pool, tables.totals),
        {tuple(r[c] for c in MONTH_KEY_COLUMNS): [r[c] for c in FIGURE_COLUMNS] for r in months},  # type: ignore[misc]
        {tuple(r[c] for c in received_keys): r["reports"] for r in received},  # type: ignore[misc]
        {tuple(r[c] for c in village_keys): r["reports"] for r in villages},  # type: ignore[misc]
    )


async def wait_for_all(pool: asyncpg.Pool, expected: Truth, timeout: float = 15.0) -> None:
    await eventually(lambda: read_all(pool), lambda t: t == expected, timeout)


async def wait_for_totals(
    pool: asyncpg.Pool, expected: dict[Key, Vector], timeout: float = 15.0
) -> None:
    await eventually(lambda: read_totals(pool), lambda t: t == expected, timeout)


async def drained(js: JetStreamContext) -> bool:
    """Every message of REPORTS delivered to the shared consumer and acked."""
    info = await js.consumer_info(REPORTS, CONSUMER)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def wait_drained(js: JetStreamContext, timeout: float = 15.0) -> None:
    await eventually(lambda: drained(js), bool, timeout)


@contextlib.asynccontextmanager
async def running(consumer: Consumer) -> AsyncIterator[Consumer]:
    """Run a consumer's workers in the background; stop them (batch in hand finished) after."""
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        consumer.stop()
        await task


async def read_raw(js: JetStreamContext, stream: str, count: int) -> list[Msg]:
    """The first `count` messages of a stream as they are (bytes, headers), acked."""
    sub = await js.pull_subscribe(">", stream=stream)
    msgs: list[Msg] = []
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while len(msgs) < count and asyncio.get_running_loop().time() < deadline:
            with contextlib.suppress(TimeoutError):
                msgs += await sub.fetch(count - len(msgs), timeout=1.0)
    finally:
        await sub.unsubscribe()
    for m in msgs:
        await m.ack()
    return msgs
