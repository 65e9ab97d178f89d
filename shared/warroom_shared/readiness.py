"""Readiness (`GET /readyz`), the same for every service: named checks, each true or false.

A service's lifespan plugs in what it depends on (`watch`): its database answers, its NATS
connection is up, the JetStream streams (KV buckets included) it publishes to or reads exist,
and the consumers it fetches from exist. Until the lifespan has done so, and once it stops, the
service is not ready. Each check has its own time limit, so a probe answers within seconds
whatever is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

Check = Callable[[], Awaitable[bool]]


class Readiness:
    def __init__(self, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def clear(self) -> None:
        self._checks.clear()

    def watch(
        self,
        pool: asyncpg.Pool,
        nc: NATS,
        streams: Iterable[str] = (),
        consumers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """The usual checks: `database`, `nats`, `stream:<name>` for each stream and
        `consumer:<stream>/<name>` for each consumer."""
        self.add("database", lambda: _database(pool))
        self.add("nats", lambda: _nats(nc))
        js = nc.jetstream()
        for stream in streams:
            self.add(f"stream:{stream}", _stream(js, stream))
        for stream, consumer in consumers:
            self.add(f"consumer:{stream}/{consumer}", _consumer(js, stream, consumer, self.timeout))

    async def run(self) -> dict[str, bool]:
        """Every check's answer (an error or a timeout is false)."""
        names = list(self._checks)
        answers = await asyncio.gather(*(self._one(self._checks[n]) for n in names))
        return dict(zip(names, answers, strict=True))

    async def _one(self, check: Check) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                return bool(await check())
        except Exception:  # noqa: BLE001 - whatever the failure, the answer is "not ready"
            return False


async def _database(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return bool(await conn.fetchval("SELECT true"))


async def _nats(nc: NATS) -> bool:
    return bool(nc.is_connected)


def _stream(js: JetStreamContext, name: str) -> Check:
    async def check() -> bool:
        await js.stream_info(name)  # the check's own time limit bounds it
        return True

    return check


def _consumer(js: JetStreamContext, stream: str, name: str, timeout: float) -> Check:
    async def check() -> bool:
        await js.consumer_info(stream, name, timeout=timeout)
        return True

    return check
