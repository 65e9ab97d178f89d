"""Aggregator benchmark: consumption against a raw pull-and-ack baseline, and totals queries
against `count(*) ... GROUP BY` over a plain table of the same reports.

python -m bench.aggregator [--events 1109193] [--queries 3000]

Both sides of each comparison run in this process, one after the other, on the same servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import geothai
import httpx
import nats
from fastapi import FastAPI
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from bench import load
from bench.environment import servers
from warroom_aggregator import SCHEMA, queries
from warroom_aggregator.app import create_app
from warroom_aggregator.broadcast import Broadcaster
from warroom_aggregator.prepare import prepare
from warroom_aggregator.queries import TotalsFilter
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.topology import CONSUMER, REPORT_SUBJECTS, REPORTS
from warroom_cli.embedded import serving
from warroom_registry.prepare import prepare as prepare_registry
from warroom_registry.settings import RegistrySettings
from warroom_shared import db
from warroom_shared.domain import Dimension, Programme, Sector, Stage
from warroom_shared.events import ReportAmended, ReportRetracted, ReportSubmitted
from warroom_shared.puller import Puller

REAL_Q2_2568 = 1_109_193  # reports the real War Room counted in FY 2568 Q2
SECTORS = [s.value for s in Sector]
DIMENSIONS = [d.value for d in Dimension]
PROGRAMMES = [p.value for p in Programme]
STAGES = [s.value for s in Stage]
TYPES = {"submitted": ReportSubmitted.event_type(), "amended": ReportAmended.event_type(),
         "retracted": ReportRetracted.event_type()}  # fmt: skip


@dataclass
class Backlog:
    """What was published, and the figures of each report as it stands (for the plain table)."""

    events: int = 0
    current: dict[str, tuple[Any, ...]] | None = None


def _figures(rng: random.Random, district: str) -> dict[str, Any]:
    quarter = rng.choices((1, 2, 3), (1, 8, 1))[0]
    programme = rng.choices(PROGRAMMES, (2, 1))[0]
    village = programme == "sustainable_village"
    return {
        "province_code": district[:2], "district_code": district, "fiscal_year": 2568,
        "quarter": quarter, "programme": programme,
        "dimensions": rng.sample(DIMENSIONS, rng.randint(1, 3)),
        "participants": {s: rng.randint(0, 30) for s in SECTORS},
        "households": rng.randint(0, 50),
        "stages": rng.sample(STAGES, rng.randint(1, 4)),
        "month": (quarter * 3 + 6 + rng.randrange(3)) % 12 + 1,
        "subdistrict_code": f"{district}01" if village else None,
        "village_no": rng.randint(1, 12) if village else None,
        "received_on": f"2025-{rng.randint(1, 4):02d}-{rng.randint(1, 28):02d}",
    }  # fmt: skip


def _envelope(kind: str, report_id: str, data: dict[str, Any]) -> tuple[str, bytes, str]:
    figures = data.get("figures") or data.get("new") or data["old"]
    event_id = str(uuid.uuid4())
    subject = f"warroom.report.{kind}.{figures['province_code']}.{figures['district_code']}"
    body = {
        "specversion": "1.0", "id": event_id, "source": "/warroom/reporting",
        "type": TYPES[kind], "subject": subject, "time": "2025-02-14T03:00:00Z",
        "datacontenttype": "application/json",
        "data": {"province_code": figures["province_code"],
                 "district_code": figures["district_code"], "report_id": report_id,
                 "version": 1, **data},
    }  # fmt: skip
    return subject, json.dumps(body).encode(), event_id


def events(n: int, seed: int = 2568) -> Iterator[tuple[str, bytes, str, str, Any]]:
    """`n` events over the 928 districts: ~94% submissions, ~5% amendments, ~1% retractions.
    Yields (subject, data, event id, report id, figures now or None)."""
    rng = random.Random(seed)
    districts = [d.code for p in geothai.provinces() for d in geothai.districts(p.code)]
    recent: list[tuple[str, dict[str, Any]]] = []
    for _ in range(n):
        roll = rng.random()
        if recent and roll < 0.05:
            report_id, old = recent.pop(rng.randrange(len(recent)))
            new = _figures(rng, old["district_code"])
            yield *_envelope("amended", report_id, {"old": old, "new": new}), report_id, new
            recent.append((report_id, new))
        elif recent and roll < 0.06:
            report_id, old = recent.pop(rng.randrange(len(recent)))
            data = {"old": old, "reason": "entered twice"}
            yield *_envelope("retracted", report_id, data), report_id, None
        else:
            report_id, new = str(uuid.uuid4()), _figures(rng, rng.choice(districts))
            yield *_envelope("submitted", report_id, {"figures": new}), report_id, new
            recent = [*recent[-999:], (report_id, new)]


async def publish_backlog(js: JetStreamContext, n: int) -> dict[str, tuple[Any, ...] | None]:
    """Publish `n` events like the outbox relay does; returns each report's current row."""
    current: dict[str, tuple[Any, ...] | None] = {}
    pending = []
    for subject, data, event_id, report_id, now in events(n):
        headers = {"Nats-Msg-Id": event_id}
        pending.append(await js.publish_async(subject, data, headers=headers))
        current[report_id] = _plain_row(now) if now else None
        if len(pending) >= 2000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    return current


def _plain_row(f: dict[str, Any]) -> tuple[Any, ...]:
    return (
        f["district_code"], f["province_code"], f["fiscal_year"], f["quarter"], f["programme"],
        f["dimensions"], f["stages"], f["households"], *(f["participants"][s] for s in SECTORS),
    )  # fmt: skip


async def raw_pull_and_ack(nc: NATS, n: int, fetch: str) -> float:
    """A baseline: a separate durable consumer that only fetches batches of 500 and acks, with
    nats-py's own `fetch` or with the `Puller` the aggregator uses."""
    js = nc.jetstream()
    name = f"bench_raw_{fetch}"
    config = ConsumerConfig(
        durable_name=name, filter_subject=REPORT_SUBJECTS, ack_policy=AckPolicy.EXPLICIT,
        ack_wait=60, max_ack_pending=20_000,
    )  # fmt: skip
    await js.add_consumer(REPORTS, config)
    sub = await js.pull_subscribe_bind(name, REPORTS)
    puller = await Puller(nc, REPORTS, name).start()
    got, began = 0, time.perf_counter()
    while got < n:
        with contextlib.suppress(TimeoutError):
            msgs = await (sub.fetch(500, timeout=5) if fetch == "nats-py" else puller.fetch(500, 5))
            for msg in msgs:
                await msg.ack()
            got += len(msgs)
    seconds = time.perf_counter() - began
    await sub.unsubscribe()
    await puller.stop()
    return n / seconds


@contextlib.asynccontextmanager
async def aggregator_app(settings: AggregatorSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def consumption_rate(app: FastAPI, n: int, began: float) -> float:
    """Events per second from the app's start until its consumer has applied all `n`."""
    stats = app.state.aggregator.consumer.stats
    while stats.applied + stats.duplicates + stats.dead_lettered < n:
        await asyncio.sleep(0.05)
    return n / (time.perf_counter() - began)


@dataclass(frozen=True)
class Shape:
    """One question, asked of the aggregator (HTTP and its query function) and of a plain table."""

    label: str
    url: str
    filter: TotalsFilter
    plain_where: str
    by: str | None = None  # a breakdown (GROUP BY) rather than one figure set


SHAPES = [
    Shape("national FY2568 Q2", "/v1/totals?fiscal_year=2568&quarter=2",
          TotalsFilter(fiscal_year=2568, quarter=2), "fiscal_year = 2568 AND quarter = 2"),
    Shape("national FY2568", "/v1/totals?fiscal_year=2568", TotalsFilter(fiscal_year=2568),
          "fiscal_year = 2568"),
    Shape("national Q2 water", "/v1/totals?fiscal_year=2568&quarter=2&dimension=water",
          TotalsFilter(fiscal_year=2568, quarter=2, dimension=Dimension.WATER),
          "fiscal_year = 2568 AND quarter = 2 AND 'water' = ANY(dimensions)"),
    Shape("national Q2 stage act", "/v1/totals?fiscal_year=2568&quarter=2&stage=act",
          TotalsFilter(fiscal_year=2568, quarter=2, stage=Stage.ACT),
          "fiscal_year = 2568 AND quarter = 2 AND 'act' = ANY(stages)"),
    Shape("province 30 Q2", "/v1/totals?scope=province&code=30&fiscal_year=2568&quarter=2",
          TotalsFilter("province", "30", 2568, 2),
          "province_code = '30' AND fiscal_year = 2568 AND quarter = 2"),
    Shape("district 1001 Q2 cast",
          "/v1/totals?scope=district&code=1001&fiscal_year=2568&quarter=2&programme=cast",
          TotalsFilter("district", "1001", 2568, 2, Programme.CAST),
          "district_code = '1001' AND fiscal_year = 2568 AND quarter = 2 AND programme = 'cast'"),
    Shape("by province, Q2", "/v1/totals/breakdown?by=province&fiscal_year=2568&quarter=2",
          TotalsFilter(fiscal_year=2568, quarter=2), "fiscal_year = 2568 AND quarter = 2",
          by="province"),
]  # fmt: skip
PLAIN_SUMS = "count(*), sum(households), " + ", ".join(f"sum({s})" for s in SECTORS)


async def load_plain_table(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """The same reports as one row each, indexed for the filters the shapes use."""
    sectors = ", ".join(f"{s} int" for s in SECTORS)
    await conn.execute(
        "CREATE SCHEMA bench; CREATE TABLE bench.reports (district_code text, "
        "province_code text, fiscal_year int, quarter int, programme text, dimensions text[], "
        f"stages text[], households int, {sectors})"
    )
    await conn.copy_records_to_table("reports", schema_name="bench", records=rows)
    await conn.execute(
        "CREATE INDEX ON bench.reports (fiscal_year, quarter, province_code, district_code); "
        "ANALYZE bench.reports"
    )


async def timed(call: Callable[[], Awaitable[object]], times: int, warm_up: int) -> list[float]:
    for _ in range(warm_up):
        await call()
    out = []
    for _ in range(times):
        began = time.perf_counter()
        await call()
        out.append((time.perf_counter() - began) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def query_latencies(url: str, token: str, conn: asyncpg.Connection, n: int) -> None:
    """Each shape: over HTTP to an API-only replica (p50, p99), the query function alone, the
    plain table."""
    totals: list[float] = []
    print(f"{'query':<22} {'HTTP p50':>9} {'p99':>6} {'SQL p50':>8} {'plain p50':>10}  speed-up")
    for shape in SHAPES:
        http = await _http(url, token, shape.url, n // len(SHAPES), warm_up=50)
        sql = await timed(_ours(conn, shape), n // len(SHAPES), warm_up=50)
        plain = await timed(_plain(conn, shape), 10, warm_up=1)
        totals += http if shape.by is None else []
        print(
            f"{shape.label:<22} {pct(http, 50):9.2f} {pct(http, 99):6.2f} {pct(sql, 50):8.2f} "
            f"{pct(plain, 50):10.1f}  {pct(plain, 50) / pct(http, 50):5.0f}x HTTP, "
            f"{pct(plain, 50) / pct(sql, 50):5.0f}x SQL"
        )
    print(f"GET /v1/totals, all shapes: p50 {pct(totals, 50):.2f} ms, p99 {pct(totals, 99):.2f} ms")


async def _http(url: str, token: str, path: str, times: int, warm_up: int) -> list[float]:
    """Latencies of one GET after another on a keep-alive connection (the lean load client:
    an HTTP library would add its own cost to every figure)."""
    request = load.request_bytes(url, path, b"", token, method="GET")
    await load.run(url, [request] * warm_up, 1, {200})
    result = await load.run(url, [request] * times, 1, {200})
    assert result.ok == times, f"{path}: {times - result.ok} answers were not 200"
    return result.latencies_ms


async def api_replica_ready(url: str, token: str) -> None:
    """Wait until the replica has loaded the district directory and answers a query."""
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        while (await c.get(SHAPES[-1].url)).status_code != 200:
            await asyncio.sleep(0.1)


def _ours(conn: asyncpg.Connection, shape: Shape) -> Callable[[], Awaitable[object]]:
    if shape.by is not None:
        return lambda: queries.breakdown(conn, shape.filter, shape.by or "")
    return lambda: queries.totals(conn, shape.filter)


def _plain(conn: asyncpg.Connection, shape: Shape) -> Callable[[], Awaitable[object]]:
    group = "province_code, " if shape.by else ""
    sql = f"SELECT {group}{PLAIN_SUMS} FROM bench.reports WHERE {shape.plain_where}"
    return lambda: conn.fetch(sql + (" GROUP BY province_code" if shape.by else ""))


def live_fan_out(clients: int = 5000) -> None:
    """One round of the live stream: every client, caught up, reads the one change since."""
    broadcaster = Broadcaster()
    provinces = [p.code for p in geothai.provinces()]
    districts = [d.code for p in provinces for d in geothai.districts(p)]
    places = [("national", "TH")] + [("province", p) for p in provinces]
    for scope, code in places + [("district", code) for code in districts]:
        for quarter in range(1, 5):
            broadcaster.update((scope, code, 2568, quarter), f"{scope} {code}")
    keys = broadcaster.version
    versions = [broadcaster.since(0)[0] for _ in range(clients)]
    broadcaster.update(("district", districts[0], 2568, 2), "changed")
    before, began = broadcaster.examined, time.perf_counter()
    for version in versions:
        broadcaster.since(version)
    took = time.perf_counter() - began
    print(f"live stream, {clients:,} clients, {keys:,} keys, one change: a round reads "
          f"{broadcaster.examined - before:,} keys in {took * 1000:.1f} ms")  # fmt: skip


async def run(n: int, queries: int) -> None:
    live_fan_out()
    with servers() as bench_servers:
        database_url, nats_url = bench_servers.database_url, bench_servers.nats_url
        settings = AggregatorSettings(
            database_url=database_url, nats_url=nats_url, log_level="WARNING"
        )
        await db.ensure_database(database_url)
        await prepare(settings)
        await prepare_registry(RegistrySettings(database_url=database_url, nats_url=nats_url))
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        began = time.perf_counter()
        current = await publish_backlog(js, n)
        print(f"published {n:,} events in {time.perf_counter() - began:.1f} s")
        conn = await db.connect(database_url, SCHEMA)
        rows = [r for r in current.values() if r is not None]
        await load_plain_table(conn, rows)
        print(f"{len(rows):,} current reports, also in a plain table")
        del current, rows
        gc.collect()
        gc.freeze()  # the set-up's objects are not the measured loops' garbage to scan
        raw = await raw_pull_and_ack(nc, n, "nats-py")
        print(f"raw pull + ack, nats-py fetch     {raw:>10,.0f} events/s  (the baseline)")
        lean = await raw_pull_and_ack(nc, n, "puller")
        print(f"raw pull + ack, warroom Puller    {lean:>10,.0f} events/s")
        began = time.perf_counter()
        async with aggregator_app(settings) as app:
            rate = await consumption_rate(app, n, began)
            print(f"aggregator into totals            {rate:>10,.0f} events/s  (ratio "
                  f"{rate / raw:.2f} to the baseline, target >= 0.7; {rate / lean:.2f} to the "
                  "Puller's raw rate)")  # fmt: skip
        for table in ("totals", "month_totals", "received_reports", "village_reports"):
            buckets = await conn.fetchval(f"SELECT count(*) FROM {table}")
            print(f"{buckets:,} bucket rows in {table}")
        env = {**os.environ, "WARROOM_DATABASE_URL": database_url, "WARROOM_NATS_URL": nats_url,
               "WARROOM_CONSUMER_ENABLED": "false", "WARROOM_LOG_LEVEL": "WARNING"}  # fmt: skip
        with serving("warroom_aggregator.app:create_app", env) as url:
            print(f"queries over HTTP: an API-only replica (uvicorn, 1 worker) at {url}")
            await api_replica_ready(url, bench_servers.token)
            await query_latencies(url, bench_servers.token, conn, queries)
        await conn.close()
        info = await js.consumer_info(REPORTS, CONSUMER)
        assert info.num_pending == 0, info
        await nc.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.aggregator", description=__doc__)
    parser.add_argument("--events", type=int, default=REAL_Q2_2568)
    parser.add_argument("--queries", type=int, default=3000)
    args, _ = parser.parse_known_args(argv)
    asyncio.run(run(args.events, args.queries))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
