"""The live fan-out of one replica: every viewer of an area gets its change from one upstream
subscription, only viewers of that area are touched, and a slow viewer gets the newest figures
rather than a backlog."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from warroom_web import live

NATION = ("national", "TH", 2570, 1)


def figures(scope: str, code: str, reports: int) -> dict[str, Any]:
    return {"scope": scope, "code": code, "fiscal_year": 2570, "quarter": 1,
            "reports": reports, "participants_total": reports * 10, "households": reports}  # fmt: skip


async def first_count(hub: live.Hub, key: live.Key, seen: asyncio.Event) -> str:
    """What one browser's stream says the count is, at its first update."""
    stream = live.sse(hub, key, interval=0.01, heartbeat=30)
    try:
        async for chunk in stream:
            if chunk.startswith("retry"):
                seen.set()  # connected
            if "event: reports" in chunk:
                return chunk.split("event: reports\ndata: ", 1)[1].split("\n", 1)[0]
    finally:
        await stream.aclose()
    raise AssertionError("the stream ended")


async def test_2000_viewers_get_one_change_and_the_others_none() -> None:
    hub = live.Hub()
    connected = [asyncio.Event() for _ in range(2_100)]
    nation = [asyncio.create_task(first_count(hub, NATION, e)) for e in connected[:2_000]]
    province = [
        asyncio.create_task(first_count(hub, ("province", "12", 2570, 1), e))
        for e in connected[2_000:]
    ]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in connected)), 10)
    assert hub.viewers == 2_100
    started = time.perf_counter()
    hub.publish(figures("national", "TH", 1_109_193))
    counts = await asyncio.wait_for(asyncio.gather(*nation), 10)
    elapsed = time.perf_counter() - started
    assert counts == ["1,109,193"] * 2_000
    assert not any(task.done() for task in province)  # Nonthaburi did not change
    assert elapsed < 2.0, f"2,000 viewers took {elapsed:.2f} s"
    for task in province:
        task.cancel()
    await asyncio.gather(*province, return_exceptions=True)
    assert hub.viewers == 0


async def test_a_slow_viewer_gets_the_newest_figures_only() -> None:
    hub = live.Hub()
    with hub.watch(NATION) as viewer:
        for reports in (1, 2, 3):
            hub.publish(figures("national", "TH", reports))
        latest = await viewer.next(timeout=1)
        assert latest is not None
        assert latest["reports"] == 3
        assert await viewer.next(timeout=0.01) is None  # nothing queued behind it


async def test_a_new_viewer_starts_from_the_latest_figures_of_its_area() -> None:
    hub = live.Hub()
    hub.publish(figures("district", "1201", 7))
    seen = asyncio.Event()
    assert await asyncio.wait_for(first_count(hub, ("district", "1201", 2570, 1), seen), 2) == "7"


async def test_closing_the_hub_ends_every_stream() -> None:
    hub = live.Hub()
    opened = asyncio.Event()

    async def read() -> None:
        async for _ in live.sse(hub, NATION, heartbeat=30):
            opened.set()

    reader = asyncio.create_task(read())
    await asyncio.wait_for(opened.wait(), 2)
    hub.close()
    await asyncio.wait_for(reader, 2)
