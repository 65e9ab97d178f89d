"""The live stream's source: the latest totals per scope, code and quarter, for every SSE client.

Fed from `warroom.totals.updated.>` on NATS rather than from this replica's own commits, so an
SSE client sees every replica's changes, and an API-only replica streams too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from nats.aio.msg import Msg
from prometheus_client import Gauge

log = logging.getLogger(__name__)

Key = tuple[str, str, int, int]  # scope, code, fiscal year, quarter
SignalHandler = Callable[[int, FrameType | None], object]
Visible = Callable[[str, str], bool]  # (scope, code) -> may the caller see it


class Broadcaster:
    def __init__(self, clients: Gauge | None = None) -> None:
        self._latest: dict[Key, tuple[int, str]] = {}  # key -> (version it changed at, JSON)
        self.version = 0
        self._changed = asyncio.Event()
        self.closed = False
        self.clients = 0
        self._clients_gauge = clients

    @contextlib.contextmanager
    def client(self) -> Iterator[None]:
        """While an SSE client is connected (`warroom_sse_clients`)."""
        self.clients += 1
        if self._clients_gauge is not None:
            self._clients_gauge.inc()
        try:
            yield
        finally:
            self.clients -= 1
            if self._clients_gauge is not None:
                self._clients_gauge.dec()

    def update(self, key: Key, payload: str) -> None:
        self.version += 1
        self._latest[key] = (self.version, payload)
        self._wake()

    async def on_message(self, msg: Msg) -> None:
        """NATS callback for `warroom.totals.updated.>`."""
        try:
            body = json.loads(msg.data)
            key = (body["scope"], body["code"], int(body["fiscal_year"]), int(body["quarter"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed totals update on %s", msg.subject)
            return
        self.update(key, msg.data.decode())

    def since(
        self, version: int, scope: str | None = None, visible: Visible = lambda _s, _c: True
    ) -> tuple[int, list[str]]:
        """The payloads changed after `version` (of one scope, or all, and only of places the
        caller may see), and the version now."""
        changed = [
            payload
            for (key_scope, code, *_), (at, payload) in self._latest.items()
            if at > version and scope in (None, key_scope) and visible(key_scope, code)
        ]
        return self.version, changed

    async def wait(self, version: int, timeout: float) -> bool:
        """Wait until something changed after `version`; False on timeout."""
        if self.version > version or self.closed:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)
            return True
        return False

    def close(self) -> None:
        """End every client's stream (on shutdown)."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


@contextlib.contextmanager
def streams_end_on_exit_signal(broadcaster: Broadcaster) -> Iterator[None]:
    """uvicorn waits for open responses to finish before it shuts the app down, and an SSE
    stream never finishes by itself: chain SIGINT and SIGTERM so they end the streams (clients
    reconnect elsewhere) and then do what they did. Only handlers that are Python callables
    (uvicorn's, Python's SIGINT) are chained; the previous ones are put back on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be handled in the main thread
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig, handler in previous.items():
        if callable(handler):
            signal.signal(sig, _closing(loop, broadcaster, handler))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _closing(
    loop: asyncio.AbstractEventLoop, broadcaster: Broadcaster, then: SignalHandler
) -> SignalHandler:
    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(broadcaster.close)
        then(signum, frame)

    return handler
