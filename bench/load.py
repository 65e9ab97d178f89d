"""A small, fast HTTP/1.1 load generator: keep-alive connections over asyncio streams.

httpx costs more CPU per request than the servers under test, which would make the client the
bottleneck on a 2-core machine; this one only writes prepared requests and reads the answers.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests: int
    ok: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def line(self, label: str) -> str:
        return (
            f"{label:<28} {self.rate:>9,.0f} req/s  p50 {self.percentile(50):6.1f} ms  "
            f"p99 {self.percentile(99):6.1f} ms  ({self.ok:,}/{self.requests:,} ok)"
        )


def request_bytes(
    url: str, path: str, body: bytes, token: str, content_type: str = "application/json",
    method: str = "POST",
) -> bytes:  # fmt: skip
    host = urlsplit(url).netloc
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def run(url: str, requests: list[bytes], concurrency: int, ok: set[int]) -> LoadResult:
    parts = urlsplit(url)
    queue = list(reversed(requests))
    latencies: list[float] = []
    good = 0

    async def worker() -> None:
        nonlocal good
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while queue:
                payload = queue.pop()
                start = time.perf_counter()
                writer.write(payload)
                status = await read_status(reader)
                latencies.append((time.perf_counter() - start) * 1000)
                good += status in ok
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(len(requests), good, time.perf_counter() - began, latencies)


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0
