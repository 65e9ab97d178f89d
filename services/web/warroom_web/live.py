"""Live figures for every open page, from ONE subscription per replica to the aggregator's
`/v1/stream`, fanned out to the browsers over Server-Sent Events.

A viewer watches one key (scope, code, fiscal year, quarter): the page it has open, which its
principal was allowed to see when it connected. An update touches only the viewers of its key,
and each viewer keeps only the latest figures it has not sent yet (coalescing: a slow browser
gets the newest numbers, never a backlog). No viewer costs an upstream call, so a replica holds
thousands of them on one connection."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from prometheus_client import Gauge

from warroom_shared.fiscal import BANGKOK
from warroom_web.i18n import number

log = logging.getLogger(__name__)

Key = tuple[str, str, int, int]  # scope, code ("TH" for the nation), fiscal year, quarter
Credential = tuple[str, float]  # a bearer token and when it expires (seconds since the epoch)
FIELDS = ("reports", "participants_total", "households")  # what a page shows live


class Viewer:
    """One open page: the latest figures it has not sent yet, and a flag to wake it."""

    def __init__(self) -> None:
        self.latest: dict[str, Any] | None = None
        self.ready = asyncio.Event()

    def offer(self, figures: dict[str, Any]) -> None:
        self.latest = figures  # replaces what was not sent yet
        self.ready.set()

    async def next(self, timeout: float) -> dict[str, Any] | None:
        """The newest figures, or None after `timeout` seconds of quiet."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)
        self.ready.clear()
        figures, self.latest = self.latest, None
        return figures


class Hub:
    def __init__(self, viewers: Gauge | None = None) -> None:
        self._gauge = viewers
        self._viewers: dict[Key, set[Viewer]] = {}
        self._latest: dict[Key, dict[str, Any]] = {}
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()
        self.updates = 0
        self.renewals = 0  # connections ended because their token was about to expire

    @property
    def viewers(self) -> int:
        return sum(len(v) for v in self._viewers.values())

    @contextlib.contextmanager
    def watch(self, key: Key) -> Iterator[Viewer]:
        viewer = Viewer()
        self._viewers.setdefault(key, set()).add(viewer)
        if self._gauge is not None:
            self._gauge.inc()
        try:
            yield viewer
        finally:
            if self._gauge is not None:
                self._gauge.dec()
            watchers = self._viewers[key]
            watchers.discard(viewer)
            if not watchers:
                del self._viewers[key]

    def latest(self, key: Key) -> dict[str, Any] | None:
        return self._latest.get(key)

    def close(self) -> None:
        """End every browser's stream (on shutdown: they reconnect to another replica)."""
        self.closed.set()
        for viewers in self._viewers.values():
            for viewer in viewers:
                viewer.ready.set()

    def publish(self, figures: dict[str, Any]) -> None:
        key = (figures["scope"], figures["code"], int(figures["fiscal_year"]),
               int(figures["quarter"]))  # fmt: skip
        self._latest[key] = figures
        self.updates += 1
        for viewer in self._viewers.get(key, ()):
            viewer.offer(figures)

    async def run(
        self, client: httpx.AsyncClient, url: str, token: Callable[[], Awaitable[Credential]],
        margin: float = 60.0,
    ) -> None:  # fmt: skip
        """Follow the aggregator's stream for good: reconnect after 0.5 s, doubling to 10 s, and
        at once with a new token when the connection's is `margin` seconds from expiring (the
        aggregator sends the latest figures first, so nothing is missed in between)."""
        delay = 0.5
        while not self.closed.is_set():
            try:
                bearer, expires = await token()
                async with asyncio.timeout_at(_loop_time(expires - margin)):
                    async for figures in _events(client, url, bearer, self.connected):
                        delay = 0.5
                        self.publish(figures)
            except TimeoutError:
                self.renewals += 1
                self.connected.clear()
                continue  # the token's time is up: a new one, a new connection
            except (httpx.HTTPError, OAuthError, ValueError, KeyError) as exc:
                log.warning("the live stream from the aggregator broke: %r", exc)
            self.connected.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closed.wait(), delay)
            delay = min(delay * 2, 10.0)


def _loop_time(epoch: float) -> float:
    """An epoch time on the event loop's clock, at least a second from now."""
    loop = asyncio.get_running_loop()
    return loop.time() + max(epoch - time.time(), 1.0)


async def _events(
    client: httpx.AsyncClient, url: str, token: str, opened: asyncio.Event
) -> AsyncIterator[dict[str, Any]]:
    """The `totals` events of one connection to `/v1/stream`; `opened` is set once it is open."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    timeout = httpx.Timeout(10.0, read=60.0)  # its heartbeat comes every 15 s
    async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                f"{response.status_code}", request=response.request, response=response
            )
        opened.set()
        event, data = "", []
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line:
                if event == "totals" and data:
                    yield json.loads("\n".join(data))
                event, data = "", []


async def sse(
    hub: Hub, key: Key, interval: float = 0.25, heartbeat: float = 15.0
) -> AsyncIterator[str]:
    """One browser's stream: an event per figure (its text as the page shows it), at most one
    round per `interval`; a comment line when quiet, so proxies keep it open."""
    with hub.watch(key) as viewer:
        yield "retry: 3000\n\n"
        if (known := hub.latest(key)) is not None:
            viewer.offer(known)
        while not hub.closed.is_set():
            figures = await viewer.next(heartbeat)
            if hub.closed.is_set():
                return
            if figures is None:
                yield ": heartbeat\n\n"
                continue
            yield "".join(f"event: {f}\ndata: {number(figures[f])}\n\n" for f in FIELDS)
            yield f"event: updated\ndata: {dt.datetime.now(BANGKOK):%H:%M:%S}\n\n"
            await asyncio.sleep(interval)
