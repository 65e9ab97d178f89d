"""Freshness: how long after a POST's 201 the change arrives on the aggregator's `/v1/stream`.

Single POSTs at a steady rate (an open loop: each is sent at its time, whatever the answers
before it), each to the next of the programme's districts in turn, so that a district's reports
never overlap: when the stream shows a district's k-th report of the run, that report is the one
whose 201 came k-th there. Its latency is the stream event's arrival less that 201.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import geothai
import httpx

from bench import load
from warroom_registry.geography import BANGKOK

PERIOD: dict[str, str | int] = {
    "fiscal_year": 2568,
    "quarter": 2,
}  # of every report here: activity on 2025-02-14


def programme_districts() -> list[str]:
    return [
        d.code for p in geothai.provinces() if p.code != BANGKOK for d in geothai.districts(p.code)
    ]


@dataclass
class Freshness:
    rate: float  # POSTs a second asked for
    sent: int
    created: int
    latencies_ms: list[float]  # 201 -> stream, one per report seen on the stream
    post_ms: list[float]

    def line(self) -> str:
        pct = load.LoadResult(0, 0, 1, self.latencies_ms).percentile
        post = load.LoadResult(0, 0, 1, self.post_ms).percentile
        return (
            f"{self.sent:,} POSTs at {self.rate:,.0f}/s ({self.created:,} 201): 201 -> /v1/stream "
            f"p50 {pct(50):.0f} ms, p99 {pct(99):.0f} ms, max {max(self.latencies_ms):.0f} ms "
            f"(target p99 <= 500 ms); the POSTs' own p99 {post(99):.1f} ms"
        )


async def _stream(
    url: str, token: str, seen: dict[str, list[tuple[int, float]]], ready: asyncio.Event
) -> None:
    """Read district totals off the stream: (reports, arrival) by district."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        f"GET /v1/stream?scope=district HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    ready.set()
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                now = time.perf_counter()
                body: dict[str, Any] = json.loads(line[6:])
                if (body["fiscal_year"], body["quarter"]) == (
                    PERIOD["fiscal_year"],
                    PERIOD["quarter"],
                ):
                    seen[body["code"]].append((body["reports"], now))
    finally:
        writer.close()


async def _counted(aggregator: str, token: str, districts: list[str]) -> dict[str, int]:
    """Each district's reports of the quarter before the run, from the totals API."""
    counted: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=aggregator, headers=headers, timeout=30) as client:
        for province in sorted({code[:2] for code in districts}):
            params = {"by": "district", "scope": "province", "code": province, **PERIOD}
            answer = await client.get("/v1/totals/breakdown", params=params)
            answer.raise_for_status()
            counted |= {row["key"]: row["reports"] for row in answer.json()["rows"]}
    return counted


async def measure(
    reporting: str, aggregator: str, token: str, bodies: list[bytes], districts: list[str],
    rate: float, connections: int = 32,
) -> Freshness:  # fmt: skip
    """POST `bodies` (the i-th to `districts[i % len]`) at `rate` a second; wait for the stream."""
    seen: dict[str, list[tuple[int, float]]] = defaultdict(list)
    ready = asyncio.Event()
    reading = asyncio.create_task(_stream(aggregator, token, seen, ready))
    await ready.wait()
    before = await _counted(aggregator, token, districts)
    parts = urlsplit(reporting)
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection(parts.hostname, parts.port))
    created: dict[str, list[float]] = defaultdict(list)  # district -> 201 times, in order
    post_ms: list[float] = []

    async def post(i: int) -> None:
        reader, writer = await pool.get()
        began = time.perf_counter()
        writer.write(load.request_bytes(reporting, "/v1/reports", bodies[i], token))
        status = await load.read_status(reader)
        done = time.perf_counter()
        pool.put_nowait((reader, writer))
        post_ms.append((done - began) * 1000)
        if status == 201:
            created[districts[i % len(districts)]].append(done)

    began, tasks = time.perf_counter(), []
    for i in range(len(bodies)):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(i)))
    await asyncio.gather(*tasks)
    want = {code: before.get(code, 0) + len(times) for code, times in created.items()}
    async with asyncio.timeout(60):
        while any(max((n for n, _ in seen[c]), default=0) < n for c, n in want.items()):
            await asyncio.sleep(0.1)
    reading.cancel()
    while not pool.empty():
        pool.get_nowait()[1].close()
    latencies = []
    for code, times in created.items():
        for k, t in enumerate(times, start=before.get(code, 0) + 1):
            arrival = next(at for n, at in seen[code] if n >= k)
            latencies.append((arrival - t) * 1000)
    return Freshness(rate, len(bodies), sum(map(len, created.values())), latencies, post_ms)
