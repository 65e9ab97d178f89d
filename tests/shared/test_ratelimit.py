"""The rate limit counted in process answers as `limits` does in its own memory storage: the same
requests allowed and refused, with the same Retry-After, request after request."""

from __future__ import annotations

import math
import random
import time

import limits
import pytest
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from warroom_shared.http import Problem
from warroom_shared.security.ratelimit import IN_PROCESS, LocalWindows, RateLimit


async def test_local_windows_count_as_limits_does(monkeypatch: pytest.MonkeyPatch) -> None:
    items = limits.parse_many("3/second;20/minute")
    reference = SlidingWindowCounterRateLimiter(storage_from_string("async+memory://"))
    local = LocalWindows(items)
    clock = 1_800_000_000.0
    monkeypatch.setattr(time, "time", lambda: clock)
    rng = random.Random(17)
    answers = []
    for _ in range(1000):
        clock += rng.choice((0.0, 0.0, 0.01, 0.05, 0.1, 0.2, 0.7, 1.7, 30.0))
        key = rng.choice(("sub:a", "sub:b"))
        expected = None
        for item in items:
            if not await reference.hit(item, key):
                stats = await reference.get_window_stats(item, key)
                expected = (item, max(1, math.ceil(stats.reset_time - clock)))
                break
        answers.append(expected is not None)
        assert local.hit(key, clock) == expected

    assert 100 < sum(answers) < 900  # both answers came often


async def test_rate_limit_refuses_with_retry_after_once_used() -> None:
    limit = RateLimit("3/minute", IN_PROCESS)
    for _ in range(3):
        await limit.check("ip:1")
    await limit.check("ip:2")  # a bucket of its own

    with pytest.raises(Problem) as refused:
        await limit.check("ip:1")

    assert refused.value.status == 429
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60


def test_local_windows_forget_callers_gone_quiet() -> None:
    local = LocalWindows(limits.parse_many("10/second"))
    local.hit("ip:1", 100.0)
    local.hit("ip:2", 100.2)

    local.hit("ip:2", 103.5)  # ip:1 sent nothing in this window or the previous one

    assert [list(counts) for counts in local._counts] == [["ip:2"]]
