"""The quarter: a CSV of 1,109,193 reports (FY 2568 Q2's real count) imported with
`warroom import` through the running services, timed from the file's start to totals that equal
the file's own sums, beside the raw pipeline on the same servers in the same run (COPY of the
same rows, publish of as many events, pull-and-ack of the stream); then `warroom aggregator
rebuild` of the quarter's events beside a raw pull-and-ack of the same stream.

python -m bench.quarter [--reports 1109193] [--chunk 10000] [--parallel 4] [--relay process]

The services run as `warroom up` runs them: registry, reporting and aggregator, one uvicorn
process each, and the outbox relay, `warroom relay`, a process of its own, on the embedded
PostgreSQL (durable, with its settings) and NATS. `--relay service` runs the relay in the
reporting service instead, as it runs when `WARROOM_RELAY_ENABLED` is left on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from bench.aggregator import raw_pull_and_ack
from bench.environment import Servers, servers
from bench.quarter_data import PERIOD, Quarter, designate, file_sums, totals_differences, write_csv
from warroom_aggregator.prepare import prepare as prepare_aggregator
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.topology import REPORTS
from warroom_cli.embedded import free_port, spawn, stop_process, uvicorn_args, wait_for_port
from warroom_cli.reporting import csv_report
from warroom_registry.prepare import prepare as prepare_registry
from warroom_registry.settings import RegistrySettings
from warroom_reporting.models import ReportIn
from warroom_reporting.prepare import prepare as prepare_reporting
from warroom_reporting.settings import ReportingSettings
from warroom_reporting.store import CONTENT_COLUMNS, content_row, new_report
from warroom_shared import db

REAL_Q2_2568 = 1_109_193
WARROOM = str(Path(sys.executable).parent / "warroom")
TICKS = os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def service(factory: str, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """One uvicorn process serving the app factory, as `warroom up` runs it: (URL, pid)."""
    port = free_port()
    proc = spawn([*uvicorn_args(factory, port), "--log-level", "warning"], env=env)
    try:
        wait_for_port(port, proc, 60, factory)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        stop_process(proc)


def _cpu(pid: int) -> tuple[int, str, float, float]:
    """(parent, command name, CPU seconds of the process, of the children it waited for)."""
    head, tail = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    f = tail.split()
    own, children = (int(f[11]) + int(f[12])) / TICKS, (int(f[13]) + int(f[14])) / TICKS
    return int(f[1]), head.split("(", 1)[1], own, children


@contextlib.contextmanager
def relay(env: dict[str, str]) -> Iterator[int]:
    """`warroom relay` in a process of its own: its pid."""
    proc = spawn([WARROOM, "relay"], env=env)
    try:
        yield proc.pid
    finally:
        stop_process(proc)


@dataclass
class CpuMeter:
    """CPU seconds of this run's processes, by group: each service, PostgreSQL (every backend;
    the ones that ended are in the postmaster's children's time), NATS and the import."""

    services: dict[str, int]  # group -> pid
    start: dict[str, float] = field(default_factory=dict)

    def sample(self) -> dict[str, float]:
        groups = dict.fromkeys([*self.services, "postgres", "nats-server"], 0.0)
        table = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError):
                table[int(stat.parent.name)] = _cpu(int(stat.parent.name))
        me = os.getpid()
        for pid, (parent, name, own, children) in table.items():
            if pid in self.services.values():
                groups[next(k for k, v in self.services.items() if v == pid)] += own
            elif name in ("postgres", "nats-server") and _descends(pid, me, table):
                groups[name] += own + (children if parent == me else 0.0)
        return groups

    def __enter__(self) -> CpuMeter:
        self.start = self.sample()
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def used(self) -> dict[str, float]:
        now = self.sample()
        return {k: now[k] - self.start.get(k, 0.0) for k in now}


def _descends(pid: int, ancestor: int, table: dict[int, tuple[int, str, float, float]]) -> bool:
    while pid in table:
        if table[pid][0] == ancestor:
            return True
        pid = table[pid][0]
    return False


async def _stream_messages(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return int((await nc.jetstream().stream_info(REPORTS)).state.messages)
    finally:
        await nc.close()


async def _ready(client: httpx.AsyncClient, reporting: str, aggregator: str) -> None:
    while (await client.post(f"{reporting}/v1/reports", json={})).status_code != 422:
        await asyncio.sleep(0.1)
    while (await client.get(f"{aggregator}/v1/totals")).status_code != 200:
        await asyncio.sleep(0.1)


@dataclass
class Import:
    """Seconds from the file's start until each stage held every report."""

    accepted: float = 0.0
    published: float = 0.0
    counted: float = 0.0
    checked: float = 0.0
    reconciled: float = 0.0
    import_cpu: float = 0.0
    import_rss: float = 0.0  # MiB, the most the import held at once
    cpu: dict[str, float] = field(default_factory=dict)


def _run_import(args: list[str], env: dict[str, str], out: dict[str, object]) -> None:
    """`warroom import` to its end; its exit code, output, CPU seconds and largest resident
    memory (from wait4)."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    text = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.update(code=proc.returncode, text=text, cpu=usage.ru_utime + usage.ru_stime,
               rss=usage.ru_maxrss / 1024)  # fmt: skip


async def import_quarter(
    s: Servers, sheet: Path, n: int, urls: dict[str, str], env: dict[str, str], meter: CpuMeter,
    chunk: int, parallel: int,
) -> Import:  # fmt: skip
    result = Import()
    sums = file_sums(sheet)
    assert sums.national.reports == n
    period: dict[str, str | int] = {
        "fiscal_year": PERIOD.year,
        "quarter": PERIOD.quarter,
        "scope": "national",
    }
    done: dict[str, object] = {}
    args = [WARROOM, "import", str(sheet), "--url", urls["reporting"], "--chunk", str(chunk),
            "--parallel", str(parallel)]  # fmt: skip
    async with httpx.AsyncClient(headers=s.auth, timeout=60) as client:
        await _ready(client, urls["reporting"], urls["aggregator"])
        with meter:
            began = time.perf_counter()
            importing = threading.Thread(target=_run_import, args=(args, env, done))
            importing.start()
            published = counted = 0
            while not (result.accepted and result.published and result.counted):
                await asyncio.sleep(0.25)
                now = time.perf_counter() - began
                if not result.accepted and not importing.is_alive():
                    result.accepted = now
                    assert done["code"] == 0, done["text"]
                    print(f"  all accepted at {now:7.1f} s: {str(done['text']).strip()}")
                if not result.published:
                    published = await _stream_messages(s.nats_url)
                    if published >= n:
                        result.published = now
                        print(f"  all published at {now:6.1f} s")
                if not result.counted:
                    answer = await client.get(f"{urls['aggregator']}/v1/totals", params=period)
                    counted = answer.json()["reports"] if answer.status_code == 200 else 0
                    if counted >= n:
                        result.counted = now
                        print(f"  all counted at {now:8.1f} s")
            result.cpu = meter.used()
    with httpx.Client(base_url=urls["aggregator"], headers=s.auth, timeout=60) as sync:
        differences = totals_differences(sums, sync)
    result.checked = time.perf_counter() - began
    assert differences == [], differences[:10]
    print(f"  totals equal the file's sums (national, {len(sums.districts)} districts) at "
          f"{result.checked:.1f} s")  # fmt: skip
    reconcile = subprocess.run(
        [WARROOM, "reconcile", "--fiscal-year", str(PERIOD.year), "--quarter",
         str(PERIOD.quarter), "--reporting-url", urls["reporting"]],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    result.reconciled = time.perf_counter() - began
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    print(f"  warroom reconcile exit 0 at {result.reconciled:.1f} s")
    result.import_cpu = float(done["cpu"])  # type: ignore[arg-type]
    result.import_rss = float(done["rss"])  # type: ignore[arg-type]
    return result


@dataclass
class Raw:
    copy: float = 0.0  # seconds
    publish: float = 0.0
    pull: float = 0.0
    puller: float = 0.0

    @property
    def total(self) -> float:
        return self.copy + self.publish + self.pull


async def raw_pipeline(s: Servers, sheet: Path, n: int) -> Raw:
    """COPY of the file's rows into a plain table and publish of their events into a stream of
    their own, chunk by chunk (only the COPY and the publish timed); pull-and-ack of the
    quarter's stream with nats-py's fetch (and with the aggregator's Puller)."""
    raw = Raw()
    conn = await db.connect(s.database_url, "public")
    nc = await nats.connect(s.nats_url)
    js = nc.jetstream()
    await js.add_stream(name="BENCH_RAW", subjects=["bench.raw.>"])
    like = "CREATE TABLE bench_copy AS SELECT report_id, {} FROM reporting.reports WITH NO DATA"
    await conn.execute(like.format(", ".join(CONTENT_COLUMNS)))
    with sheet.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f)
        while batch := [
            ReportIn.model_validate(csv_report(r)) for r in itertools.islice(rows, 10_000)
        ]:
            records = [(r.report_id, *content_row(r, r.district_code[:2])) for r in batch]
            # each report's event as the service writes it to its outbox
            events = [new_report(r, r.district_code[:2], {}).event for r in batch]
            payloads = [(subject, data, str(eid)) for eid, subject, data, _ in events]
            began = time.perf_counter()
            await conn.copy_records_to_table(
                "bench_copy", records=records, columns=["report_id", *CONTENT_COLUMNS]
            )
            raw.copy += time.perf_counter() - began
            began = time.perf_counter()
            for start in range(0, len(payloads), 500):
                futures = [
                    await js.publish_async(
                        "bench.raw." + subject[15:], data, headers={"Nats-Msg-Id": mid}
                    )
                    for subject, data, mid in payloads[start : start + 500]
                ]
                await asyncio.gather(*futures)
            raw.publish += time.perf_counter() - began
    await js.delete_stream("BENCH_RAW")
    await conn.execute("DROP TABLE bench_copy")
    await conn.close()
    raw.pull = n / await raw_pull_and_ack(nc, n, "nats-py")
    raw.puller = n / await raw_pull_and_ack(nc, n, "puller")
    await nc.close()
    return raw


def rebuild(env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run([WARROOM, "aggregator", "rebuild"], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - began


async def prepare(s: Servers) -> None:
    await db.ensure_database(s.database_url)
    urls, nats_url = s.database_url, s.nats_url
    await prepare_registry(RegistrySettings(database_url=urls, nats_url=nats_url))
    await prepare_reporting(ReportingSettings(database_url=urls, nats_url=nats_url))
    await prepare_aggregator(AggregatorSettings(database_url=urls, nats_url=nats_url))


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>9,.0f}/s  {seconds:7.1f} s"


def run(n: int, chunk: int, parallel: int, relay_in: str) -> None:
    with tempfile.TemporaryDirectory(prefix="warroom-quarter-") as tmp, servers() as s:
        asyncio.run(prepare(s))
        quarter = Quarter.of()
        sheet = Path(tmp) / "quarter.csv"
        began = time.perf_counter()
        write_csv(sheet, quarter, n)
        print(
            f"{n:,} reports of FY{PERIOD.year} Q{PERIOD.quarter} over "
            f"{len(quarter.places)} districts written to a CSV of "
            f"{sheet.stat().st_size / 2**20:,.0f} MiB in {time.perf_counter() - began:.0f} s"
        )
        env = {**os.environ, "WARROOM_DATABASE_URL": s.database_url,
               "WARROOM_NATS_URL": s.nats_url, "WARROOM_LOG_LEVEL": "WARNING",
               "WARROOM_TOKEN": s.token}  # fmt: skip
        with contextlib.ExitStack() as stack:
            registry, registry_pid = stack.enter_context(
                service("warroom_registry.app:create_app", env)
            )
            villages = designate(registry, s.token, quarter)
            print(f"{villages:,} Sustainable Villages designated through the registry")
            relaying = {"WARROOM_RELAY_ENABLED": str(relay_in == "service").lower()}
            reporting, reporting_pid = stack.enter_context(
                service("warroom_reporting.app:create_app", {**env, **relaying})
            )
            pids = {"reporting": reporting_pid}
            if relay_in == "process":
                pids["relay"] = stack.enter_context(relay(env))
            aggregator, aggregator_pid = stack.enter_context(
                service("warroom_aggregator.app:create_app", env)
            )
            urls = {"reporting": reporting, "aggregator": aggregator}
            meter = CpuMeter({**pids, "aggregator": aggregator_pid, "registry": registry_pid})
            print(f"warroom import --chunk {chunk} --parallel {parallel}, relay in {relay_in}, "
                  "from the file's start:")  # fmt: skip
            got = asyncio.run(import_quarter(s, sheet, n, urls, env, meter, chunk, parallel))
            print("raw pipeline on the same servers (the same rows, as many events):")
            raw = asyncio.run(raw_pipeline(s, sheet, n))
            print("warroom aggregator rebuild of the quarter's events:")
            rebuilt = rebuild(env)
        report(n, got, raw, rebuilt)


def report(n: int, got: Import, raw: Raw, rebuilt: float) -> None:
    print(f"the quarter, {n:,} reports (rate and seconds from the file's start):")
    print(f"  all accepted (import ended)  {_rate(n, got.accepted)}")
    print(f"  all published to JetStream   {_rate(n, got.published)}")
    print(f"  all counted in the totals    {_rate(n, got.counted)}")
    print(f"  totals checked exactly       {got.checked:28.1f} s")
    print(f"  warroom reconcile exit 0     {got.reconciled:28.1f} s")
    print("raw pipeline, same machine, same run:")
    print(f"  raw COPY of the same rows    {_rate(n, raw.copy)}")
    print(f"  raw publish_async, 500 in flight {n / raw.publish:>5,.0f}/s  {raw.publish:7.1f} s")
    print(f"  raw pull + ack (nats-py)     {_rate(n, raw.pull)}")
    print(f"  raw pull + ack (Puller)      {_rate(n, raw.puller)}  (for reference)")
    print(f"  sum (COPY + publish + nats-py pull) {raw.total:21.1f} s")
    print(f"wall time to exact totals {got.checked:.1f} s = {got.checked / raw.total:.2f}x the raw "
          f"sum (target <= 2x)")  # fmt: skip
    cpu = {**got.cpu, "import": got.import_cpu}
    print(
        f"where the time went (CPU seconds until all counted, {got.counted:.0f} s of wall on "
        f"{os.cpu_count()} cores):  " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
    )
    print(f"warroom import held at most {got.import_rss:,.0f} MiB (maximum resident set)")
    print(f"rebuild: {_rate(n, rebuilt)}; {rebuilt / raw.pull:.2f}x the raw nats-py pull-and-ack "
          f"of the same stream, {rebuilt / raw.puller:.2f}x the Puller's")  # fmt: skip


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quarter", description=__doc__)
    parser.add_argument("--reports", type=int, default=REAL_Q2_2568)
    parser.add_argument("--chunk", type=int, default=10_000, help="warroom import --chunk")
    parser.add_argument("--parallel", type=int, default=4, help="warroom import --parallel")
    parser.add_argument(
        "--relay", choices=("process", "service"), default="process",
        help="the outbox relay as `warroom relay`, a process of its own (as `warroom up` runs "
        "it), or in the reporting service",
    )  # fmt: skip
    args, _ = parser.parse_known_args(argv)
    run(args.reports, args.chunk, args.parallel, args.relay)


if __name__ == "__main__":
    main(sys.argv[1:])
