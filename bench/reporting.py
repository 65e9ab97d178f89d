"""Reporting benchmark: single POSTs against the peer a team would write (`bench.peer`) and a
parse-only ceiling; freshness from a POST's 201 to the aggregator's `/v1/stream` at half the
service's measured rate; bulk against raw COPY/publish.

python -m bench.reporting [--requests 20000] [--concurrency 32] [--bulk 200000] [--bulk-parallel 4]
    [--freshness-seconds 20]

`--bulk 0` leaves out the bulk import and the POSTs during one; `--freshness-seconds 0` leaves
out freshness: `--bulk 0 --freshness-seconds 0` measures the single POSTs and their baselines only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any

import httpx
import nats

from bench import freshness, load, peer
from bench.environment import Servers, servers
from bench.serve import balanced_serving
from warroom_aggregator.prepare import prepare as prepare_aggregator
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.topology import CONSUMER, REPORTS
from warroom_cli.embedded import serving
from warroom_registry.prepare import prepare as prepare_registry
from warroom_registry.settings import RegistrySettings
from warroom_reporting.models import ReportIn
from warroom_reporting.prepare import prepare as prepare_reporting
from warroom_reporting.settings import ReportingSettings
from warroom_reporting.store import CONTENT_COLUMNS, content_row, new_report
from warroom_shared import db

DISTRICTS = ["1201", "1202", "5001", "5025", "3801", "9601"]  # amphoe: khet are outside
PROVINCE = {d: d[:2] for d in DISTRICTS}


def report_body(i: int) -> dict[str, Any]:
    return {
        "report_id": str(uuid.uuid4()), "programme": "cast",  # no designated villages here
        "district_code": DISTRICTS[i % len(DISTRICTS)], "activity_date": "2025-02-14",
        "dimensions": ["water", "income"], "stages": ["talk", "act"],
        "participants": {"government": 5, "private": 2, "religious": 1, "civil_society": 3,
                         "academic": 0, "people": 40 + i % 7, "media": 1},
        "households": 12, "title": "ซ่อมแซมประปาหมู่บ้าน",
        "details": "ทีมอำเภอร่วมกับชาวบ้านซ่อมระบบประปาหมู่บ้าน",
        "reported_by": {"name": "สมศรี มีสุข", "position": "ปลัดอำเภอ"},
    }  # fmt: skip


async def wait_ready(url: str, s: Servers) -> None:
    probe = report_body(0) | {"district_code": "0000"}
    async with httpx.AsyncClient(base_url=url, headers=s.auth) as client:
        while (await client.post("/v1/reports", json=probe)).status_code == 503:
            await asyncio.sleep(0.1)


async def single_posts(url: str, s: Servers, n: int, concurrency: int) -> load.LoadResult:
    requests = [
        load.request_bytes(url, "/v1/reports", json.dumps(report_body(i)).encode(), s.token)
        for i in range(n)
    ]
    await load.run(url, requests[: n // 10], concurrency, {200, 201})  # warm-up
    return await load.run(url, requests[n // 10 :], concurrency, {201})


async def stream_messages(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return int((await nc.jetstream().stream_info("REPORTS")).state.messages)
    finally:
        await nc.close()


async def bulk(url: str, s: Servers, n: int, parallel: int) -> tuple[float, float]:
    """Seconds until all were accepted and committed, and until all were in the stream; chunks
    of 10,000 with `parallel` in flight, as `warroom import --chunk 10000 --parallel N` sends."""
    already = await stream_messages(s.nats_url)
    chunks = [
        b"\n".join(json.dumps(report_body(i)).encode() for i in range(s, min(s + 10_000, n)))
        for s in range(0, n, 10_000)
    ][::-1]
    began = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=300, headers=s.auth) as client:

        async def sender() -> None:
            while chunks:
                chunk = chunks.pop()
                r = await client.post(
                    "/v1/reports:bulk", content=chunk,
                    headers={"Content-Type": "application/x-ndjson"},
                )  # fmt: skip
                assert r.json()["created"] == chunk.count(b"\n") + 1, r.text[:300]

        await asyncio.gather(*(sender() for _ in range(parallel)))
    accepted = time.perf_counter() - began
    while await stream_messages(s.nats_url) < already + n:
        await asyncio.sleep(0.05)
    return accepted, time.perf_counter() - began


async def posts_during_import(url: str, s: Servers, n: int, parallel: int) -> load.LoadResult:
    """Single POSTs from 4 clients while an import of `n` reports runs: what a district office
    waits for while another imports a backlog."""
    requests = [
        load.request_bytes(url, "/v1/reports", json.dumps(report_body(i)).encode(), s.token)
        for i in range(3_000)
    ]
    importing = asyncio.create_task(bulk(url, s, n, parallel))
    await asyncio.sleep(0.5)  # the first chunks are in
    result = await load.run(url, requests, 4, {201})
    await importing
    return result


async def raw_copy(dsn: str, n: int) -> float:
    reports = [ReportIn.model_validate(report_body(i)) for i in range(n)]
    records = [(r.report_id, *content_row(r, PROVINCE[r.district_code])) for r in reports]
    conn = await db.connect(dsn, "public")
    try:
        like = "CREATE TABLE bench_copy AS SELECT report_id, {} FROM reporting.reports WITH NO DATA"
        await conn.execute(like.format(", ".join(CONTENT_COLUMNS)))
        began = time.perf_counter()
        for s in range(0, n, 10_000):
            await conn.copy_records_to_table(
                "bench_copy", records=records[s : s + 10_000],
                columns=["report_id", *CONTENT_COLUMNS],
            )  # fmt: skip
        return n / (time.perf_counter() - began)
    finally:
        await conn.close()


async def raw_publish(nats_url: str, n: int) -> float:
    reports = [ReportIn.model_validate(report_body(i)) for i in range(n)]
    # each report's event as the service writes it to its outbox
    events = [new_report(r, PROVINCE[r.district_code], {}).event for r in reports]
    payloads = [(subject, data, str(event_id)) for event_id, subject, data, _ in events]
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name="BENCH_RAW", subjects=["bench.raw.>"])
    began = time.perf_counter()
    for s in range(0, n, 500):
        futures = [
            await js.publish_async("bench.raw." + subject[15:], data, headers={"Nats-Msg-Id": mid})
            for subject, data, mid in payloads[s : s + 500]
        ]
        await asyncio.gather(*futures)
    rate = n / (time.perf_counter() - began)
    await js.delete_stream("BENCH_RAW")
    await nc.close()
    return rate


async def prepare(s: Servers) -> None:
    await db.ensure_database(s.database_url)
    await prepare_registry(RegistrySettings(database_url=s.database_url, nats_url=s.nats_url))
    await prepare_reporting(ReportingSettings(database_url=s.database_url, nats_url=s.nats_url))
    await prepare_aggregator(AggregatorSettings(database_url=s.database_url, nats_url=s.nats_url))
    conn = await db.connect(s.database_url, "public")
    try:
        await peer.create_table(conn)
    finally:
        await conn.close()


async def caught_up(s: Servers, aggregator: str) -> None:
    """Until the aggregator has counted every event in the stream and answers queries."""
    nc = await nats.connect(s.nats_url)
    try:
        async with httpx.AsyncClient(headers=s.auth) as client:
            while (await client.get(f"{aggregator}/v1/totals")).status_code != 200:
                await asyncio.sleep(0.1)
        while True:
            info = await nc.jetstream().consumer_info(REPORTS, CONSUMER)
            if (info.num_pending, info.num_ack_pending) == (0, 0):
                return
            await asyncio.sleep(0.1)
    finally:
        await nc.close()


async def fresh(url: str, aggregator: str, s: Servers, rate: float, seconds: float) -> str:
    await caught_up(s, aggregator)
    districts = freshness.programme_districts()
    n = int(rate * seconds)
    bodies = [
        json.dumps(report_body(i) | {"district_code": districts[i % len(districts)]}).encode()
        for i in range(n)
    ]
    result = await freshness.measure(url, aggregator, s.token, bodies, districts, rate)
    return result.line()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.reporting")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--bulk", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of each server")
    parser.add_argument("--bulk-parallel", type=int, default=4, help="bulk requests in flight")
    parser.add_argument("--freshness-seconds", type=float, default=20.0)
    args, _ = parser.parse_known_args(argv)
    with servers() as s:
        asyncio.run(prepare(s))
        env = {**os.environ, "WARROOM_DATABASE_URL": s.database_url,
               "WARROOM_NATS_URL": s.nats_url, "WARROOM_LOG_LEVEL": "WARNING"}  # fmt: skip
        with balanced_serving("bench.baseline:create_app", env, args.workers) as url:
            base = asyncio.run(single_posts(url, s, args.requests, args.concurrency))
        with balanced_serving("bench.peer:create_app", env, args.workers) as url:
            rival = asyncio.run(single_posts(url, s, args.requests, args.concurrency))
        with balanced_serving("warroom_reporting.app:create_app", env, args.workers) as url:
            asyncio.run(wait_ready(url, s))
            real = asyncio.run(single_posts(url, s, args.requests, args.concurrency))
            fresh_line = None
            if args.freshness_seconds > 0:
                with serving("warroom_aggregator.app:create_app", env) as aggregator:
                    rate = real.rate / 2
                    fresh_line = asyncio.run(
                        fresh(url, aggregator, s, rate, args.freshness_seconds)
                    )
            if args.bulk > 0:
                accepted, published = asyncio.run(bulk(url, s, args.bulk, args.bulk_parallel))
                during = asyncio.run(posts_during_import(url, s, 60_000, args.bulk_parallel))
        if args.bulk > 0:
            copy_rate = asyncio.run(raw_copy(s.database_url, args.bulk))
            publish_rate = asyncio.run(raw_publish(s.nats_url, args.bulk))
    print(f"single POST /v1/reports, {args.concurrency} concurrent clients, "
          f"{args.workers} worker processes each:")  # fmt: skip
    print("  " + rival.line("peer (asyncpg, a transaction)"))
    print("  " + real.line("reporting (tokens, outbox)"))
    print("  " + base.line("parse-only ceiling"))
    print(f"  reporting/peer: rate {real.rate / rival.rate:.2f}x (target >= 1.0), p99 "
          f"{real.percentile(99):.1f} vs {rival.percentile(99):.1f} ms (target: no worse); "
          f"of the parse-only ceiling {real.rate / base.rate:.2f}x")  # fmt: skip
    if fresh_line is not None:
        print("freshness, single POSTs at half the reporting service's rate, aggregator 1 process:")
        print("  " + fresh_line)
    if args.bulk > 0:
        print_bulk(args, accepted, published, copy_rate, publish_rate, during)


def print_bulk(
    args: argparse.Namespace, accepted: float, published: float, copy_rate: float,
    publish_rate: float, during: load.LoadResult,
) -> None:  # fmt: skip
    print(f"bulk NDJSON, {args.bulk:,} reports in chunks of 10,000, "
          f"{args.bulk_parallel} in flight:")  # fmt: skip
    print(f"  accepted and committed   {args.bulk / accepted:>9,.0f} reports/s")
    print(f"  published to JetStream   {args.bulk / published:>9,.0f} reports/s (end to end)")
    print(f"  raw copy_records_to_table {copy_rate:>8,.0f} rows/s")
    print(f"  raw nats publish_async   {publish_rate:>9,.0f} msgs/s")
    print(f"  ratio accepted/raw COPY: {args.bulk / accepted / copy_rate:.2f} (the whole "
          "import against the raw pipeline: bench.quarter)")  # fmt: skip
    print("single POSTs from 4 clients while 60,000 reports are imported:")
    print("  " + during.line("during an import") + f"  max {max(during.latencies_ms):.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
