"""Readiness and liveness, the same for every service: about this pod, with its shared
dependencies reported beside them.

A pod is ready (`/readyz` 200) once its lifespan has finished and while its own loops run and
what it loaded at start (the district directory) is there; it is alive (`/healthz` 200) while no
loop has ended. Neither depends on the database or NATS: every replica shares them, so a blip of
either would take every pod out of its Service at once, and clients would get the proxy's errors
instead of the services' own 503 with Retry-After (`http.DATABASE_UNAVAILABLE`), or restarts
that cure nothing. The dependencies are still checked, on each `/readyz` (its `dependencies`) and
each Prometheus scrape (`warroom_dependency_up`): the database answers, NATS is connected, the
JetStream streams (KV buckets included) and consumers the service uses exist. Each check has its
own time limit, so both answer within seconds whatever is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

Check = Callable[[], Awaitable[bool]]


class Readiness:
    def __init__(self, timeout: float = 1.5) -> None:  # below a scrape's 2 s for each source
        self.timeout = timeout
        self._dependencies: dict[str, Check] = {}
        self._loops: dict[str, asyncio.Task[Any]] = {}
        self._loaded: dict[str, asyncio.Event] = {}
        self._started = False

    def watch(
        self,
        pool: asyncpg.Pool | None,
        nc: NATS | None,
        streams: Iterable[str] = (),
        consumers: Iterable[tuple[str, str]] = (),
        loops: Mapping[str, asyncio.Task[Any]] | None = None,
        loaded: Mapping[str, asyncio.Event] | None = None,
        checks: Mapping[str, Check] | None = None,
    ) -> None:
        """The lifespan has finished starting the pod. Its own checks: `loop:<name>` for each
        task that must run until shutdown, `loaded:<name>` for each event set once something
        the pod needs is in memory. Its dependencies: `database`, `nats`, `stream:<name>` for
        each stream and `consumer:<stream>/<name>` for each consumer, and any other `checks` (a
        service without a database or NATS, such as the website, names the APIs it reads)."""
        self._loops = dict(loops or {})
        self._loaded = dict(loaded or {})
        self._dependencies = dict(checks or {})
        if pool is not None:
            self._dependencies["database"] = lambda: _database(pool)
        if nc is not None:
            js = nc.jetstream()
            self._dependencies.update(
                {"nats": lambda: _nats(nc)}
                | {f"stream:{stream}": _stream(js, stream) for stream in streams}
                | {
                    f"consumer:{stream}/{consumer}": _consumer(js, stream, consumer, self.timeout)
                    for stream, consumer in consumers
                }
            )
        self._started = True

    def clear(self) -> None:
        """The lifespan is shutting the pod down: not ready any more."""
        self._started = False
        self._dependencies.clear()
        self._loops.clear()
        self._loaded.clear()

    def alive(self) -> dict[str, bool]:
        """The loops that must run until shutdown: one that ended needs a restart."""
        return {f"loop:{name}": not task.done() for name, task in self._loops.items()}

    def pod(self) -> dict[str, bool]:
        """This pod's own checks: its lifespan finished, its loops run, what it loads is in."""
        loaded = {f"loaded:{name}": event.is_set() for name, event in self._loaded.items()}
        return {"lifespan": self._started, **self.alive(), **loaded}

    async def dependencies(self) -> dict[str, bool]:
        """Every dependency's answer (an error or a timeout is false)."""
        names = list(self._dependencies)
        answers = await asyncio.gather(*(self._one(self._dependencies[n]) for n in names))
        return dict(zip(names, answers, strict=True))

    async def figures(self) -> list[Metric]:
        """The dependencies as `warroom_dependency_up`, for `Metrics.on_scrape`."""
        up = GaugeMetricFamily(
            "warroom_dependency_up",
            "1 if a dependency shared by every replica (database, NATS, a stream or consumer) "
            "answers this replica, else 0",
            labels=["dependency"],
        )
        for name, answer in (await self.dependencies()).items():
            up.add_metric([name], 1 if answer else 0)
        return [up]

    async def _one(self, check: Check) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                return bool(await check())
        except Exception:  # noqa: BLE001 - whatever the failure, the answer is "down"
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
