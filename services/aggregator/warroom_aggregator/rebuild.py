"""Rebuild the totals from the REPORTS stream into fresh tables, then swap them in atomically.

Queries and the live consumer keep using the old tables until the swap:

1. `totals_rebuild`, `processed_events_rebuild` and the rebuild twins of the month, received
   and village tables are created empty (LIKE the live tables). Deadlines are reference data,
   not counted from the stream: they stay as they are.
2. An ephemeral pull consumer (no acks) replays the stream from its first message with the live
   consumer's own `apply_batch`, up to the last sequence noted at the start, then catches up
   again while the gap is large (reports keep arriving).
3. ONE transaction locks `processed_events`, `totals` and the rest (the order in which the live
   consumer writes them, so no deadlock: its writers wait, readers wait for this moment only),
   notes the stream's last sequence, replays the few messages up to it, drops the old tables
   and renames the new ones (indexes too) in their place.

Why nothing is lost or counted twice: under the lock no live transaction can commit, and every
event the live consumer has applied is in the stream at a sequence up to the one noted under
the lock, so the new tables hold every event the old ones held (and perhaps a few more). An
event the live consumer applies after the swap is deduplicated against the new
`processed_events` as usual. The stream must keep every report event (REPORTS has no limits);
messages that do not parse are skipped, as the live consumer dead-letters them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from warroom_aggregator import SCHEMA
from warroom_aggregator.consumer import apply_batch, decode, delivery
from warroom_aggregator.outcomes import Decoded
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.store import LIVE, REBUILD
from warroom_aggregator.topology import REPORT_SUBJECTS, REPORTS
from warroom_shared import db, messaging
from warroom_shared.puller import Puller

log = logging.getLogger(__name__)

Progress = Callable[[int, int], Awaitable[None]]  # (sequence replayed up to, sequence to reach)
LOCKED_CATCH_UP = 5_000  # replay outside the lock until at most this many messages are left


async def rebuild(settings: AggregatorSettings, progress: Progress | None = None) -> int:
    """Rebuild the totals from the stream; returns how many events the new totals count."""
    conn = await db.connect(settings.database_url, SCHEMA)
    nc = await messaging.connect(settings.nats_url, "warroom-aggregator-rebuild")
    try:
        js = nc.jetstream()
        await _create_tables(conn)
        replay = Replay(conn, nc, settings.batch_size, progress)
        await replay.start()
        await replay.until(await _last_seq(js))
        while await _last_seq(js) - replay.seq > LOCKED_CATCH_UP:
            await replay.until(await _last_seq(js))
        async with conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '30s'")
            await conn.execute(f"LOCK TABLE {', '.join(LIVE.names())} IN ACCESS EXCLUSIVE MODE")
            await replay.until(await _last_seq(js))
            for new, live in zip(REBUILD.names(), LIVE.names(), strict=True):
                await _swap(conn, new, live)
        return replay.applied
    finally:
        await nc.drain()
        await conn.close()


async def _last_seq(js: JetStreamContext) -> int:
    info = await js.stream_info(REPORTS)
    return info.state.last_seq


async def _create_tables(conn: asyncpg.Connection) -> None:
    await conn.execute(f"DROP TABLE IF EXISTS {', '.join(REBUILD.names())}")
    for new, live in zip(REBUILD.names(), LIVE.names(), strict=True):
        # the counting tables are updated in place: room on each page for HOT updates
        room = "" if live == LIVE.processed else " WITH (fillfactor = 70)"
        await conn.execute(f"CREATE TABLE {new} (LIKE {live} INCLUDING ALL){room}")


async def _swap(conn: asyncpg.Connection, new: str, live: str) -> None:
    """Put `new` in the place of `live`, its indexes renamed after the live ones."""
    names = await _index_names(conn, live)
    renames = await _index_names(conn, new)
    await conn.execute(f"DROP TABLE {live}; ALTER TABLE {new} RENAME TO {live}")
    for columns, name in renames.items():
        await conn.execute(f'ALTER INDEX "{name}" RENAME TO "{names[columns]}"')


async def _index_names(conn: asyncpg.Connection, table: str) -> dict[str, str]:
    """Index name by its column numbers (LIKE copies the columns, so these match)."""
    rows = await conn.fetch(
        "SELECT i.indkey::text AS columns, c.relname AS name FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass",
        table,
    )
    return {r["columns"]: r["name"] for r in rows}


class Replay:
    """Reads the stream from its first message and applies it to the rebuild tables."""

    def __init__(
        self, conn: asyncpg.Connection, nc: NATS, batch: int, progress: Progress | None
    ) -> None:
        self._conn, self._nc, self._batch, self._progress = conn, nc, batch, progress
        self._js = nc.jetstream()
        self._puller: Puller | None = None
        self._consumer = ""
        self.seq = 0  # last stream sequence applied
        self.applied = 0
        self._ahead: asyncio.Future[tuple[int, list[Decoded]] | None] | None = None

    async def start(self) -> None:
        config = ConsumerConfig(
            name=f"rebuild-{secrets.token_hex(8)}",  # named: the aggregator may create only those
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.NONE,  # a replay: nothing to redeliver
            filter_subject=REPORT_SUBJECTS,
            inactive_threshold=300.0,  # seconds; the server removes it if the rebuild dies
            mem_storage=True,
        )
        assert config.name is not None
        self._consumer = config.name
        await self._js.add_consumer(REPORTS, config)
        self._puller = await Puller(self._nc, REPORTS, self._consumer).start()

    async def until(self, target: int) -> None:
        """Apply messages until the one at `target` (or the stream's end) has been applied.
        The next batch is fetched and decoded while the database applies this one."""
        while self.seq < target:
            fetched = await (self._ahead or asyncio.ensure_future(self._fetch()))
            self._ahead = None
            if fetched is None:
                if (await self._js.consumer_info(REPORTS, self._consumer)).num_pending == 0:
                    return  # nothing left: the messages up to `target` were removed
                continue
            last, items = fetched
            if last < target:
                self._ahead = asyncio.ensure_future(self._fetch())
            outcome = await apply_batch(self._conn, items, REBUILD)
            self.applied += len(outcome.applied)
            self.seq = last
            if self._progress is not None:
                await self._progress(self.seq, target)

    async def _fetch(self) -> tuple[int, list[Decoded]] | None:
        """The next batch: its last stream sequence and its events; None when none came."""
        assert self._puller is not None
        msgs = await self._puller.fetch(self._batch, expires=2.0)
        if not msgs:
            return None
        items = [i for i in map(decode, msgs) if i.envelope is not None]
        return delivery(msgs[-1].reply).seq, items
