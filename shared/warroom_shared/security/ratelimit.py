"""Requests per caller: the `limits` library's sliding window counter for each limit.

Counted in this process by default (`async+memory://`, per replica), by `LocalWindows`: the same
arithmetic as `limits` in its memory storage, which costs about 20 us a limit on every request
(a key string, awaits and a lock), against about 1 here. Any other storage URI of `limits`
(`async+redis://…`, shared by the replicas) is counted there, by `limits` itself.
"""

from __future__ import annotations

import math
import time

import limits
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from warroom_shared.http import Problem

IN_PROCESS = "async+memory://"


class LocalWindows:
    """A sliding window counter per limit and caller, in this process's memory."""

    def __init__(self, items: list[limits.RateLimitItem]) -> None:
        self.items = items
        # per limit: caller -> (its window's number, the previous window's count, this one's)
        self._counts: list[dict[str, tuple[int, int, int]]] = [{} for _ in items]
        self._longest = max((item.get_expiry() for item in items), default=1)
        self._sweep_at = 0.0

    def hit(self, key: str, now: float) -> tuple[limits.RateLimitItem, int] | None:
        """Count a request of `key`: None when every limit allows it, else the first limit it
        exceeds and the seconds until it may be sent again (limits before that one counted it,
        as `limits` counts them one after the other)."""
        if now >= self._sweep_at:
            self._sweep(now)
        for item, counts in zip(self.items, self._counts, strict=True):
            expiry = item.get_expiry()
            window = int(now / expiry)
            previous, current = _counts_in(counts.get(key), window)
            left = 1 - (now / expiry) % 1  # of this window: the previous one's weight
            if math.floor(previous * left + current) + 1 > item.amount:
                return item, _retry_after(expiry, left, previous, current)
            counts[key] = (window, previous, current + 1)
        return None

    def _sweep(self, now: float) -> None:
        """Forget callers who sent nothing in the previous window or this one."""
        for item, counts in zip(self.items, self._counts, strict=True):
            oldest = int(now / item.get_expiry()) - 1
            for key in [k for k, (window, _, _) in counts.items() if window < oldest]:
                del counts[key]
        self._sweep_at = now + self._longest


def _counts_in(entry: tuple[int, int, int] | None, window: int) -> tuple[int, int]:
    """The previous window's count and this one's."""
    if entry is None or entry[0] < window - 1:
        return 0, 0
    if entry[0] == window - 1:
        return entry[2], 0
    return entry[1], entry[2]


def _retry_after(expiry: int, left: float, previous: int, current: int) -> int:
    """Seconds until one of the counts that make up the weight goes down (as `limits` says
    when a window resets)."""
    resets = [(left * expiry) % (expiry / previous)] if previous else []
    if current:
        resets.append((left * expiry + expiry) % expiry)
    return max(1, math.ceil(min(resets, default=expiry)))


class RateLimit:
    """`spec`: limits as `limits` writes them (`50/second;1500/minute`); `storage_uri`: where they
    are counted (`IN_PROCESS`, or a storage URI of `limits`)."""

    def __init__(self, spec: str, storage_uri: str) -> None:
        self.items = limits.parse_many(spec)
        self._local: LocalWindows | None = None
        self._shared: SlidingWindowCounterRateLimiter | None = None
        if storage_uri == IN_PROCESS:
            self._local = LocalWindows(self.items)
        else:
            self._shared = SlidingWindowCounterRateLimiter(storage_from_string(storage_uri))

    async def check(self, key: str) -> None:
        """429 with Retry-After when `key` has sent more than a limit allows."""
        if self._local is not None:
            refused = self._local.hit(key, time.monotonic())
        else:
            refused = await self._shared_hit(key)
        if refused is not None:
            item, retry = refused
            raise Problem(429, "rate_limited", limit=str(item), headers={"Retry-After": str(retry)})

    async def _shared_hit(self, key: str) -> tuple[limits.RateLimitItem, int] | None:
        assert self._shared is not None
        for item in self.items:
            if not await self._shared.hit(item, key):
                stats = await self._shared.get_window_stats(item, key)
                return item, max(1, math.ceil(stats.reset_time - time.time()))
        return None
