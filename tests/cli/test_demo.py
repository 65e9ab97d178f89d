"""`warroom demo` against the real services (each its own process, on the test's PostgreSQL and
NATS, with the default rate limits): loaded once, then nothing more; totals, completeness and
breakdowns all have something real to show."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.utils.apps import Platform
from tests.utils.auth import bearer
from tests.utils.processes import service_env, service_process
from warroom_aggregator.deadlines import quarter_end, quarter_start
from warroom_cli.demo_data import EXAMPLE_DISTRICT, Place, cast_of
from warroom_shared.fiscal import FiscalPeriod, current_period, today_bangkok

WARROOM = str(Path(sys.executable).parent / "warroom")
DISTRICTS = 120  # of the 878: the registry's share of the run stays short
DUE = 1_200  # reports dated up to today, whatever the day of the quarter


def _size(period: FiscalPeriod) -> int:
    """Reports of the whole quarter such that about DUE of them are dated up to today."""
    first, last = quarter_start(*period), quarter_end(*period)
    elapsed = (today_bangkok() - first).days + 1
    return math.ceil(DUE * ((last - first).days + 1) / elapsed)


def _demo(env: dict[str, str], urls: list[str], size: int) -> tuple[dict[str, Any], str]:
    """Run it; what it created and found already there, by kind, and what it printed."""
    args = ["--registry-url", urls[0], "--reporting-url", urls[1], "--aggregator-url", urls[2]]
    done = subprocess.run(
        [WARROOM, "demo", "--reports", str(size), "--districts", str(DISTRICTS), *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    found = re.findall(r"^  (\w+) +([\d,]+) created, ([\d,]+) already there", done.stdout, re.M)
    counts = {
        kind: (int(new.replace(",", "")), int(old.replace(",", ""))) for kind, new, old in found
    }
    assert set(counts) == {"teams", "members", "villages", "reports"}, done.stdout
    return counts, done.stdout


async def _settled(reporting: httpx.AsyncClient, aggregator: httpx.AsyncClient) -> dict[str, Any]:
    """The national totals once nothing is in flight: the outbox empty, every event counted."""
    async with asyncio.timeout(30):
        while True:
            outbox = (await reporting.get("/v1/outbox")).json()
            consumer = (await aggregator.get("/v1/consumer")).json()
            if (outbox["rows"], consumer["pending"], consumer["ack_pending"]) == (0, 0, 0):
                totals = await aggregator.get("/v1/totals", params={"scope": "national"})
                return dict(totals.json())
            await asyncio.sleep(0.2)


async def _keys(aggregator: httpx.AsyncClient, by: str, period: FiscalPeriod) -> set[str]:
    """The keys of a breakdown of the quarter that hold reports."""
    query = {"by": by, "fiscal_year": period.year, "quarter": period.quarter}
    rows = (await aggregator.get("/v1/totals/breakdown", params=query)).json()["rows"]
    return {row["key"] for row in rows if row["reports"]}


async def _statuses(aggregator: httpx.AsyncClient, period: FiscalPeriod) -> set[str]:
    query = {"fiscal_year": period.year, "quarter": period.quarter}
    answer = (await aggregator.get("/v1/completeness", params=query)).json()
    return {district["status"] for district in answer["statuses"]}


async def test_demo_loads_once_and_gives_every_figure_something_real(
    platform: Platform, tmp_path: Path
) -> None:
    keys = Path(os.environ["WARROOM_AUTH_JWKS_FILE"]).parent
    shutil.copytree(keys, tmp_path / "auth")  # the embedded platform's key: officers' tokens
    env = service_env(platform.registry.database_url, platform.registry.nats_url,
                      WARROOM_RATE_LIMIT="50/second;1500/minute")  # fmt: skip
    demo_env = {k: v for k, v in env.items() if k != "WARROOM_TOKEN"}
    demo_env["WARROOM_DATA_DIR"] = str(tmp_path)
    period = current_period()
    with contextlib.ExitStack() as stack:
        urls = [
            stack.enter_context(service_process(f"warroom_{name}.app:create_app", env))[0]
            for name in ("registry", "reporting", "aggregator")
        ]
        first, printed = _demo(demo_env, urls, _size(period))
        late = re.search(r"late ones of FY(\d+) Q(\d)", printed)
        assert late is not None, printed
        async with (
            httpx.AsyncClient(base_url=urls[1], headers=bearer()) as reporting,
            httpx.AsyncClient(base_url=urls[2], headers=bearer()) as aggregator,
        ):
            posted = sum(first["reports"])
            assert first["teams"] == (DISTRICTS, 0)
            assert first["reports"][0] == posted > DUE / 2
            before = await _settled(reporting, aggregator)
            assert before["reports"] == posted

            again, _ = _demo(demo_env, urls, _size(period))
            assert {kind: new for kind, (new, _) in again.items()} == dict.fromkeys(again, 0)
            assert again["reports"][1] == posted
            assert again["teams"][1] == DISTRICTS
            assert await _settled(reporting, aggregator) == before

            assert {"on_time", "not_yet"} <= await _statuses(aggregator, period)
            late_period = FiscalPeriod(int(late[1]), int(late[2]))
            assert "late" in await _statuses(aggregator, late_period)
            assert await _keys(aggregator, "programme", period) == {"cast", "sustainable_village"}
            assert await _keys(aggregator, "stage", period) == {"talk", "think", "act", "benefit"}


def test_the_readme_example_district_always_reports_on_time() -> None:
    """Whatever the seed, the README's officer token (district 1201) sees figures."""
    places = [
        Place(f"{p:02d}{d:02d}", f"{p:02d}", "", ()) for p in range(10, 97) for d in range(1, 11)
    ]
    for seed in range(40):
        cast = cast_of(seed, places)
        assert EXAMPLE_DISTRICT in {p.code for p in cast.on_time}
        assert EXAMPLE_DISTRICT not in {p.code for p in cast.late}
