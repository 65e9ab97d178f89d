"""War Room website benchmark: each page's time to answer, and live viewers on ONE web replica,
measured beside the aggregator's own `/v1/stream` with the same number of clients in the same
run.

python -m bench.web [--events 1109193] [--viewers 2000] [--pages 200] [--posts 5]

Every service runs as its own uvicorn process (one worker); the load comes from this process.
A viewer's latency runs from the POST of a report to the reporting API until that viewer reads
the new count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import re
import resource
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import nats

from bench.aggregator import REAL_Q2_2568, pct, publish_backlog
from bench.environment import Servers, servers
from warroom_aggregator.prepare import prepare as prepare_aggregator
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.embedded import serving
from warroom_registry.prepare import prepare as prepare_registry
from warroom_registry.settings import RegistrySettings
from warroom_reporting.prepare import prepare as prepare_reporting
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db
from warroom_shared.security.principal import AccessRole
from warroom_shared.security.tokens import DevKeys

PERIOD = "fy=2568&q=2"
PAGES = (
    "/",
    "/province/12",
    "/district/1201",
    "/completeness",
    "/ranking",
    "/ranking?level=district",
)
TARGET_MS = 1000.0  # every page answers within 1 s of server time (the target)


def report() -> dict[str, object]:
    return {
        "report_id": str(uuid.uuid4()), "programme": "cast", "district_code": "1201",
        "subdistrict_code": "120101", "village_no": 3, "activity_date": "2025-02-14",
        "dimensions": ["water"], "stages": ["talk"],
        "participants": {s: 1 for s in ("government", "private", "religious", "civil_society",
                                        "academic", "people", "media")},
        "households": 1, "title": "bench", "details": "bench",
        "reported_by": {"name": "bench", "position": "bench"},
    }  # fmt: skip


@contextlib.contextmanager
def platform(s: Servers) -> Iterator[dict[str, str]]:
    """registry, reporting, aggregator and web, each a process of its own; their URLs."""
    env = {**os.environ, "WARROOM_DATABASE_URL": s.database_url, "WARROOM_NATS_URL": s.nats_url,
           "WARROOM_LOG_LEVEL": "WARNING"}  # fmt: skip
    with (
        serving("warroom_registry.app:create_app", env) as registry,
        serving("warroom_reporting.app:create_app", env) as reporting,
        serving("warroom_aggregator.app:create_app", env) as aggregator,
    ):
        urls = {"registry": registry, "reporting": reporting, "aggregator": aggregator}
        web_env = {**env, **{f"WARROOM_{k.upper()}_URL": v for k, v in urls.items()}}
        with serving("warroom_web.app:create_app", web_env) as web:
            yield {**urls, "web": web}


async def caught_up(aggregator: str, token: str, events: int) -> None:
    """The aggregator has counted the backlog (nothing pending on its consumer)."""
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        while True:
            info = await client.get(f"{aggregator}/v1/consumer")
            if info.status_code == 200 and info.json().get("pending") == 0:
                return
            await asyncio.sleep(0.5)


async def signed_in(web: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=web, timeout=30)
    form = await client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    await client.post("/signin", data={"csrf": csrf[1], "role": "national_viewer", "area": ""})
    return client


async def page_times(client: httpx.AsyncClient, times: int) -> None:
    print(f"{'page':<24} {'p50 ms':>8} {'p99 ms':>8}  target: p99 < {TARGET_MS:.0f} ms")
    for path in PAGES:
        url = f"{path}{'&' if '?' in path else '?'}{PERIOD}"
        for _ in range(10):
            assert (await client.get(url)).status_code == 200
        took = []
        for _ in range(times):
            began = time.perf_counter()
            answer = await client.get(url)
            took.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, answer.status_code
        verdict = "met" if pct(took, 99) < TARGET_MS else "NOT MET"
        print(f"{path:<24} {pct(took, 50):8.1f} {pct(took, 99):8.1f}  {verdict}")


class Viewer:
    """One SSE client on a raw socket; the times it saw a new count arrive."""

    def __init__(self, url: str, path: str, header: str, marker: bytes) -> None:
        self.url, self.path, self.header, self.marker = url, path, header, marker
        self.opened = asyncio.Event()
        self.seen: list[float] = []

    async def run(self) -> None:
        parts = urlsplit(self.url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port, limit=2**20)
        writer.write(f"GET {self.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{self.header}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())  # fmt: skip
        await writer.drain()
        try:
            while line := await reader.readline():
                if line.startswith(b"retry:"):
                    self.opened.set()
                elif line.startswith(self.marker):
                    self.seen.append(time.perf_counter())
        finally:
            writer.close()


async def viewers_latency(
    name: str, viewers: list[Viewer], reporting: httpx.AsyncClient, posts: int
) -> None:
    tasks = [asyncio.create_task(v.run()) for v in viewers]
    began = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(v.opened.wait() for v in viewers)), 120)
    connected = time.perf_counter() - began
    await asyncio.sleep(3)  # the snapshot every new client gets first has arrived
    latencies: list[float] = []
    for _ in range(posts):
        before = [len(v.seen) for v in viewers]
        sent = time.perf_counter()
        assert (await reporting.post("/v1/reports", json=report())).status_code == 201
        async with asyncio.timeout(30):
            while any(len(v.seen) == n for v, n in zip(viewers, before, strict=True)):
                await asyncio.sleep(0.01)
        latencies += [(v.seen[n] - sent) * 1000 for v, n in zip(viewers, before, strict=True)]
        await asyncio.sleep(1.5)  # the next POST starts from quiet streams
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(f"{name:<34} {len(viewers):>6,} connected in {connected:5.1f} s; POST -> new count: "
          f"p50 {pct(latencies, 50):6.0f} ms, p99 {pct(latencies, 99):6.0f} ms, "
          f"max {max(latencies):6.0f} ms")  # fmt: skip


async def run(events: int, viewers: int, pages: int, posts: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * viewers + 1024)), hard))
    with servers() as s:
        await db.ensure_database(s.database_url)
        urls = {"database_url": s.database_url, "nats_url": s.nats_url}
        await prepare_registry(RegistrySettings(**urls))
        await prepare_reporting(ReportingSettings(**urls))
        await prepare_aggregator(AggregatorSettings(**urls))
        nc = await nats.connect(s.nats_url)
        began = time.perf_counter()
        await publish_backlog(nc.jetstream(), events)
        await nc.close()
        print(f"published {events:,} report events in {time.perf_counter() - began:.1f} s")
        keys = DevKeys(Path(os.environ["WARROOM_AUTH_JWKS_FILE"]).parent)
        monitor = keys.mint(AccessRole.MONITOR, subject="bench", ttl=dt.timedelta(hours=2))
        with platform(s) as url:
            await caught_up(url["aggregator"], s.token, events)
            print(f"counted; web at {url['web']} (one uvicorn worker)")
            web = await signed_in(url["web"])
            await page_times(web, pages)
            cookie = "; ".join(f"{k}={v}" for k, v in web.cookies.items())
            async with httpx.AsyncClient(base_url=url["reporting"], headers=s.auth) as reporting:
                await viewers_latency(
                    "aggregator /v1/stream (its own)",
                    [Viewer(url["aggregator"], "/v1/stream?scope=national",
                            f"Authorization: Bearer {monitor}", b"event: totals")
                     for _ in range(viewers)], reporting, posts,
                )  # fmt: skip
                await viewers_latency(
                    "web /live, one replica",
                    [Viewer(url["web"], f"/live?scope=national&code=TH&{PERIOD}",
                            f"Cookie: {cookie}", b"event: reports")
                     for _ in range(viewers)], reporting, posts,
                )  # fmt: skip
            await web.aclose()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__)
    parser.add_argument("--events", type=int, default=REAL_Q2_2568)
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--posts", type=int, default=5)
    args, _ = parser.parse_known_args(argv)
    asyncio.run(run(args.events, args.viewers, args.pages, args.posts))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
