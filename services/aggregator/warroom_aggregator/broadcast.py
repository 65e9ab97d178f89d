"""The live stream's source: the latest totals per scope, code and quarter, for every SSE client.

Fed from `warroom.totals.updated.>` on NATS rather than from this replica's own commits, so an
SSE client sees every replica's changes, and an API-only replica streams too.

Thousands of clients wake on each change, so a wake must cost the changes since the client's
last round, not every key known: each update appends (version, key) to a bounded change log,
and a client reads only the entries after the version it has seen. A client that is new or has
fallen behind the log gets the latest of every key of its scope instead (a snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from nats.aio.msg import Msg
from prometheus_client import Gauge

log = logging.getLogger(__name__)

Key = tuple[str, str, int, int]  # scope, code, fiscal year, quarter
Visible = Callable[[str, str], bool]  # (scope, code) -> may the caller see it

# Changes kept for clients to catch up from: a client more changes behind gets a snapshot.
# 65,536 entries are ~20 s of the busiest feed (928 districts, 77 provinces and the nation,
# every key changing each second: ~1,000 a second), a few MB.
LOG_WINDOW = 65_536


class Broadcaster:
    def __init__(self, clients: Gauge | None = None, window: int = LOG_WINDOW) -> None:
        self._latest: dict[str, dict[Key, str]] = {}  # scope -> key -> latest JSON
        self._log: deque[Key] = deque(maxlen=window)  # the key of each version, oldest first
        self.version = 0
        self.examined = 0  # keys `since` has read, all clients together (the fan-out's cost)
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
        self._latest.setdefault(key[0], {})[key] = payload
        self._log.append(key)  # the key of `self.version`; the oldest falls out of the window
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
        """The latest payloads of the keys changed after `version` (of one scope, or all, and
        only of places the caller may see), and the version now. Version 0, or one older than
        the change log holds, gets every key of the scope."""
        behind = self.version - version
        if version == 0 or behind > len(self._log):
            keys: Iterable[Key] = self._snapshot(scope)
        else:  # the log's last `behind` entries, newest first: each key once, at its latest
            keys = reversed(dict.fromkeys(islice(reversed(self._log), behind)))
        changed = []
        for key in keys:
            self.examined += 1
            if scope in (None, key[0]) and visible(key[0], key[1]):
                changed.append(self._latest[key[0]][key])
        return self.version, changed

    def _snapshot(self, scope: str | None) -> list[Key]:
        scopes = self._latest.values() if scope is None else [self._latest.get(scope, {})]
        return [key for keys in scopes for key in keys]

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
