"""A quarter's CSV imported with `warroom import` through the running services (registry,
reporting, its outbox relay as `warroom relay`, aggregator), each a process of its own. Midway
through the import the aggregator and the relay are killed with SIGKILL and started again. The
totals then equal the file's own sums exactly, national and of every district, and
`warroom reconcile` finds no difference. (`bench.quarter` is the same scenario at full size.)"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import signal
import subprocess
from pathlib import Path

import asyncpg
import httpx
import nats

import warroom_aggregator.prepare
from bench.quarter_data import PERIOD, Quarter, designate, file_sums, totals_differences, write_csv
from tests.cli.helpers import WARROOM, run
from tests.utils.auth import bearer, token
from tests.utils.processes import service_env, service_process, warroom
from warroom_aggregator import topology
from warroom_aggregator.settings import AggregatorSettings
from warroom_reporting.settings import ReportingSettings

REPORTS = 20_000
DISTRICTS = 60  # drawn over the provinces; a share of them designate their villages
ACK_WAIT = 3  # seconds: the killed aggregator's batch comes back this soon
KILL_AT = REPORTS // 2  # reports stored when the aggregator and the relay are killed


async def _stored(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM reporting.reports"))


async def _settled(nats_url: str, conn: asyncpg.Connection) -> None:
    """Until nothing can come again: the outbox is empty and the aggregator's consumer has no
    message left to deliver or waiting for its ack."""
    nc = await nats.connect(nats_url)
    try:
        while True:
            info = await nc.jetstream().consumer_info(topology.REPORTS, topology.CONSUMER)
            outbox = await conn.fetchval("SELECT count(*) FROM reporting.outbox")
            if (info.num_pending, info.num_ack_pending, outbox) == (0, 0, 0):
                return
            await asyncio.sleep(0.2)
    finally:
        await nc.close()


async def _ready(reporting: str, aggregator: str) -> None:
    """Until both services have loaded the district directory (503 before)."""
    async with httpx.AsyncClient(headers=bearer()) as client:
        while (await client.post(f"{reporting}/v1/reports", json={})).status_code != 422:
            await asyncio.sleep(0.1)
        while (await client.get(f"{aggregator}/v1/totals")).status_code != 200:
            await asyncio.sleep(0.1)


async def test_import_with_aggregator_and_relay_killed_midway_gives_the_files_sums(
    reporting_settings: ReportingSettings, tmp_path: Path
) -> None:
    database_url, nats_url = reporting_settings.database_url, reporting_settings.nats_url
    await warroom_aggregator.prepare.prepare(
        AggregatorSettings(database_url=database_url, nats_url=nats_url, ack_wait=ACK_WAIT)
    )
    env = service_env(database_url, nats_url, WARROOM_ACK_WAIT=str(ACK_WAIT),
                      WARROOM_RELAY_ENABLED="false", WARROOM_LOG_LEVEL="ERROR")  # fmt: skip
    quarter = Quarter.of(DISTRICTS)
    sheet = tmp_path / "quarter.csv"
    write_csv(sheet, quarter, REPORTS)
    sums = file_sums(sheet)
    with sheet.open(encoding="utf-8", newline="") as f:
        programmes = {row["programme"] for row in csv.DictReader(f)}
    conn = await asyncpg.connect(database_url)
    with contextlib.ExitStack() as stack:
        registry, _ = stack.enter_context(service_process("warroom_registry.app:create_app", env))
        villages = await asyncio.to_thread(
            designate, registry, token(), quarter
        )  # before the others start: they load the directory with the designations in it
        reporting, _ = stack.enter_context(service_process("warroom_reporting.app:create_app", env))
        relay = stack.enter_context(warroom("relay", env=env))
        aggregator, first = stack.enter_context(
            service_process("warroom_aggregator.app:create_app", env)
        )
        async with asyncio.timeout(60):
            await _ready(reporting, aggregator)

        importing = subprocess.Popen(
            [WARROOM, "import", str(sheet), "--url", reporting, "--chunk", "500",
             "--parallel", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            async with asyncio.timeout(60):
                while await _stored(conn) < KILL_AT and importing.poll() is None:
                    await asyncio.sleep(0.05)
            still_importing = importing.poll() is None
            first.send_signal(signal.SIGKILL)
            relay.send_signal(signal.SIGKILL)
            stack.enter_context(warroom("relay", env=env))
            aggregator, _ = stack.enter_context(
                service_process("warroom_aggregator.app:create_app", env)
            )
            out, err = await asyncio.to_thread(importing.communicate, timeout=120)
        finally:
            importing.kill()
        assert importing.returncode == 0, err
        assert f"{REPORTS} reports: {REPORTS} created" in out

        async with asyncio.timeout(120):
            await _settled(nats_url, conn)  # a late redelivery must not count twice
        with httpx.Client(base_url=aggregator, headers=bearer(), timeout=30) as client:
            differences = await asyncio.to_thread(totals_differences, sums, client)
        reconciled = run(
            "reconcile", "--fiscal-year", str(PERIOD.year), "--quarter", str(PERIOD.quarter),
            "--reporting-url", reporting, "--wait", "60", env=env, timeout=120,
        )  # fmt: skip
    await conn.close()

    assert still_importing, "the import ended before the kill: nothing was killed midway"
    assert first.returncode == -signal.SIGKILL
    assert relay.returncode == -signal.SIGKILL
    assert villages > 0
    assert {"cast", "sustainable_village"} <= programmes
    assert sums.national.reports == REPORTS
    assert differences == []
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
