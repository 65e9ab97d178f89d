import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from typer.testing import CliRunner

from tests.aggregator.helpers import running, wait_drained
from tests.utils.apps import Platform, live_server, serve
from tests.utils.auth import token
from tests.utils.factories import report
from warroom_aggregator.consumer import Consumer
from warroom_aggregator.reconcile import Backlog, Counts, Difference, compare, reconcile
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.main import app as cli
from warroom_reporting import SCHEMA as REPORTING
from warroom_reporting.app import create_app as create_reporting
from warroom_shared import db
from warroom_shared.domain import Sector
from warroom_shared.fiscal import today_bangkok
from warroom_shared.outbox import OutboxRelay

REPORTS = 30


def test_compare_counts_lists_each_planted_difference() -> None:
    figures = {"reports": 4, "households": 9} | {s.value: 2 for s in Sector}
    ours: Counts = {("1001", "cast"): figures, ("1002", "cast"): figures}
    theirs: Counts = {("1001", "cast"): figures | {"media": 3}, ("5001", "cast"): figures}

    differences = compare(ours, theirs)

    assert differences == [
        Difference("1001", "cast", "media", 2, 3),
        *(Difference("1002", "cast", f, n, 0) for f, n in figures.items()),
        *(Difference("5001", "cast", f, 0, n) for f, n in figures.items()),
    ]
    assert str(differences[0]) == "1001 cast media: aggregator 2, reporting 3 (-1)"
    assert compare(ours, dict(ours)) == []


def test_compare_counts_stages_and_months_unless_months_are_unknown_here() -> None:
    figures = {"reports": 4, "households": 9} | {s.value: 2 for s in Sector}
    ours: Counts = {
        ("5001", "cast"): figures | {"stage:act": 3, "month:1": 4},
        ("5002", "cast"): figures | {"month:unknown": 1, "month:2": 3},  # one from an old event
    }
    theirs: Counts = {
        ("5001", "cast"): figures | {"stage:act": 2, "stage:talk": 1, "month:1": 3, "month:3": 1},
        ("5002", "cast"): figures | {"month:2": 4},
    }

    assert [str(d) for d in compare(ours, theirs)] == [
        "5001 cast stage:talk: aggregator 0, reporting 1 (-1)",
        "5001 cast stage:act: aggregator 3, reporting 2 (+1)",
        "5001 cast month:1: aggregator 4, reporting 3 (+1)",
        "5001 cast month:3: aggregator 0, reporting 1 (-1)",
    ]


@pytest.fixture
async def reporting(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The real reporting service holding its events in its outbox (its relay is off)."""
    app = create_reporting(platform.reporting.model_copy(update={"relay_enabled": False}))
    async with serve(app) as client:
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        yield client


STAGES = (["talk"], ["talk", "think"], ["act", "benefit", "talk"], ["think"])


async def post_reports(reporting: httpx.AsyncClient, n: int = REPORTS) -> None:
    """Reports of three amphoe, each with its stages and a day of January to March 2025."""
    for i in range(n):
        district = ("1201", "1202", "5001")[i % 3]
        body = report(
            district_code=district, subdistrict_code=f"{district}01", households=i,
            stages=STAGES[i % 4], activity_date=f"2025-0{i % 3 + 1}-{i % 28 + 1:02d}",
        )  # fmt: skip
        response = await reporting.post("/v1/reports", json=body)
        assert response.status_code == 201, response.text


@pytest.fixture
async def relay(platform: Platform, nc: NATS) -> AsyncIterator[OutboxRelay]:
    """A relay of the reporting outbox, started by the test when it wants events to flow."""
    pool = await db.create_pool(platform.reporting.database_url, REPORTING)
    yield OutboxRelay(pool, nc, poll_interval=0.1)
    await pool.close()


async def test_reconcile_waits_for_reports_in_flight_then_finds_the_totals_equal(
    reporting: httpx.AsyncClient, relay: OutboxRelay, consumer: Consumer,
    settings: AggregatorSettings, js: JetStreamContext, pool: asyncpg.Pool,
) -> None:  # fmt: skip
    posted_on = today_bangkok()
    await post_reports(reporting)
    seen: list[Backlog] = []
    flowing: list[asyncio.Task[None]] = []

    async def on_wait(backlog: Backlog) -> None:  # the backlog drains once it has been seen
        seen.append(backlog)
        if not flowing:
            flowing.extend(asyncio.create_task(t.run()) for t in (relay, consumer))

    try:
        result = await reconcile(
            settings, 2568, 2, "http://test", reporting, js, wait=30, on_wait=on_wait, pause=0.05
        )
    finally:
        relay.stop()
        consumer.stop()
        await asyncio.gather(*flowing)

    assert seen[0] == Backlog(REPORTS, seen[0].outbox_oldest_seconds, 0)
    assert result.settled
    assert result.differences == []
    assert result.backlog.empty
    assert consumer.stats.applied == REPORTS
    # the reporting service's events carry the day each report was received
    days = await pool.fetch("SELECT DISTINCT received_on FROM received_reports")
    assert days
    assert {r["received_on"] for r in days} <= {posted_on, today_bangkok()}


async def test_reconcile_command_tells_reports_in_flight_from_a_real_difference(
    reporting: httpx.AsyncClient, relay: OutboxRelay, consumer: Consumer, platform: Platform,
    js: JetStreamContext, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("WARROOM_DATABASE_URL", platform.aggregator.database_url)
    monkeypatch.setenv("WARROOM_NATS_URL", platform.aggregator.nats_url)
    monkeypatch.setenv("WARROOM_TOKEN", token())
    await post_reports(reporting)
    app = create_reporting(platform.reporting.model_copy(update={"relay_enabled": False}))
    async with live_server(app) as url:
        args = ["reconcile", "--fiscal-year", "2568", "--quarter", "2", "--reporting-url", url]

        in_outbox = await _invoke([*args, "--wait", "0"])
        relaying = asyncio.create_task(relay.run())
        await _until_published(js)
        uncounted = await _invoke([*args, "--wait", "0"])
        async with running(consumer):
            await wait_drained(js)
        equal = await _invoke([*args, "--wait", "30"])
        period = "scope = 'district' AND code = '1202' AND fiscal_year = 2568 AND quarter = 2"
        await pool.execute(f"UPDATE totals SET households = households + 1 WHERE {period} "
                           "AND dimension = ''")  # fmt: skip
        await pool.execute(f"UPDATE totals SET reports = reports - 1 WHERE {period} "
                           "AND dimension = 'stage:think'")  # fmt: skip
        await pool.execute(f"UPDATE month_totals SET reports = reports + 2 WHERE {period} "
                           "AND month = 2")  # fmt: skip
        planted = await _invoke([*args, "--wait", "30"])
        relay.stop()
        await relaying
    unreachable = await _invoke([*args[:5], "--reporting-url", "http://127.0.0.1:9"])
    invalid = await _invoke(["reconcile", "--fiscal-year", "68", "--quarter", "2"])

    assert in_outbox.exit_code == 3, in_outbox.output
    assert f"{REPORTS} events in the reporting outbox" in in_outbox.stderr
    assert "in flight? 1201 cast reports: aggregator 0, reporting 10 (-10)" in in_outbox.stdout
    talking = sum(1 for i in range(0, REPORTS, 3) if "talk" in STAGES[i % 4])
    assert f"1201 cast stage:talk: aggregator 0, reporting {talking} (-{talking})" in (
        in_outbox.stdout
    )
    assert "in flight? 1201 cast month:1: aggregator 0, reporting 10 (-10)" in in_outbox.stdout
    assert uncounted.exit_code == 3, uncounted.output
    assert f"0 events in the reporting outbox (oldest 0.0 s), {REPORTS} not yet counted" in (
        uncounted.stderr
    )
    assert equal.exit_code == 0, equal.output
    assert "the totals match the reporting service, nothing in flight" in equal.stdout
    households = sum(range(1, REPORTS, 3))  # the reports of 1202
    thinking = sum(1 for i in range(1, REPORTS, 3) if "think" in STAGES[i % 4])
    assert planted.exit_code == 1, planted.output
    assert planted.stdout.splitlines() == [
        f"1202 cast households: aggregator {households + 1}, reporting {households} (+1)",
        f"1202 cast stage:think: aggregator {thinking - 1}, reporting {thinking} (-1)",
        "1202 cast month:2: aggregator 12, reporting 10 (+2)",
    ]
    assert "the same in two comparisons with nothing in flight" in planted.stderr
    assert unreachable.exit_code == 2
    assert "could not compare" in unreachable.stderr
    assert invalid.exit_code == 2


async def _until_published(js: JetStreamContext) -> None:
    async with asyncio.timeout(15):
        while (await js.stream_info("REPORTS")).state.messages < REPORTS:
            await asyncio.sleep(0.02)  # polling interval of a bounded wait


async def _invoke(args: list[str]) -> Any:
    """The CLI runs its own event loop (`asyncio.run`), so it runs in a thread of its own."""
    return await asyncio.to_thread(CliRunner().invoke, cli, args)
