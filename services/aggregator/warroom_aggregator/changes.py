"""Coalesced change notifications: `warroom.totals.updated.<scope>.<code>` on core NATS.

Committed batches only mark which (district, fiscal year, quarter) moved; in rounds at most
one per `publish_interval` (start to start) the feed reads the new overall totals of those
districts, their provinces and the nation and publishes one message each. The first change after
a quiet interval goes out at once; what changes meanwhile waits for the next round (throttled on
the leading edge, not ticks: a lone change does not wait for a tick, and under load the rounds
follow each other an interval apart, not an interval plus the round's own query). However fast
reports arrive, a monitoring consumer gets at most one message per scope and code per interval,
and the consumer's hot path pays a set insertion per event, no query and no publish.

While the consumer is behind (more than a batch waiting), a round may take at most `ROUND_SHARE`
of the time: the next starts no sooner than the last one's duration divided by that. During a
backlog every district is dirty and a round reads and publishes about a thousand totals, on the
database and cores the consumer needs: rounds ran back to back and cost about a fifth of the
database's CPU a report and a third of this process's. While it keeps up, the interval holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Sequence

import asyncpg
from nats.aio.client import Client as NATS

from warroom_aggregator import queries
from warroom_aggregator.events import Figures
from warroom_aggregator.queries import PeriodKey
from warroom_aggregator.store import SECTOR_COLUMNS
from warroom_aggregator.topology import NATIONAL_CODE, totals_subject
from warroom_shared.domain import Sector

log = logging.getLogger(__name__)

ROUND_SHARE = 0.15  # of the time, at most, the feed's rounds take while the consumer is behind


def payload(row: asyncpg.Record) -> bytes:
    """The overall totals of one scope and code in one quarter, all programmes and dimensions:
    the shape of `models.Totals`, built without a model (thousands a second under load)."""
    participants = {s.value: row[c] for s, c in zip(Sector, SECTOR_COLUMNS, strict=True)}
    body = {
        "scope": row["scope"], "code": row["code"], "fiscal_year": row["fiscal_year"],
        "quarter": row["quarter"], "programme": None, "dimension": None,
        "reports": row["reports"], "participants": participants,
        "participants_total": sum(participants.values()), "households": row["households"],
    }  # fmt: skip
    return json.dumps(body).encode()


class ChangeFeed:
    def __init__(self, pool: asyncpg.Pool, nc: NATS, interval: float) -> None:
        self._pool = pool
        self._nc = nc
        self._interval = interval
        self._dirty: set[tuple[str, int, int]] = set()
        self._stop = asyncio.Event()
        self._marked = asyncio.Event()  # something to publish, or stopping
        self._behind = False  # the consumer, as of its last commit
        self.published = 0

    def mark(self, figures: Sequence[Figures], behind: bool = False) -> None:
        """Called after a commit with the figures it moved (old and new of an amendment), and
        whether the consumer had more than a batch still waiting."""
        self._dirty.update((f.district_code, f.fiscal_year, f.quarter) for f in figures)
        self._behind = behind
        self._marked.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        began, took = -math.inf, 0.0  # the last round's start and duration
        while not self._stop.is_set():
            await self._marked.wait()
            pause = max(self._interval, took / ROUND_SHARE) if self._behind else self._interval
            wait = began + pause - loop.time()
            if wait > 0:  # a round within the interval: this one waits for its end
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), wait)
            self._marked.clear()  # before the query: a mark meanwhile makes the next round
            began = loop.time()
            await self.flush()
            took = loop.time() - began
        await self.flush()  # what was marked during the last round

    def stop(self) -> None:
        """Publish what is marked one last time, then return from `run`."""
        self._stop.set()
        self._marked.set()

    async def flush(self) -> int:
        dirty, self._dirty = self._dirty, set()
        if not dirty:
            return 0
        try:
            async with self._pool.acquire() as conn:
                rows = await queries.period_totals(conn, sorted(_keys(dirty)))
            for row in rows:
                await self._nc.publish(totals_subject(row["scope"], row["code"]), payload(row))
        except Exception:  # database or broker away: publish these next round
            log.warning("could not publish total changes; retrying", exc_info=True)
            self._dirty |= dirty
            self._marked.set()  # the next round, an interval on
            return 0
        self.published += len(rows)
        return len(rows)


def _keys(dirty: set[tuple[str, int, int]]) -> set[PeriodKey]:
    keys: set[PeriodKey] = set()
    for district, year, quarter in dirty:
        keys.add(("district", district, year, quarter))
        keys.add(("province", district[:2], year, quarter))
        keys.add(("national", NATIONAL_CODE, year, quarter))
    return keys
