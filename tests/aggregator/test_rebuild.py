import asyncio

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext
from typer.testing import CliRunner

from tests.aggregator.events import Reports, ground_truth, publish
from tests.aggregator.helpers import read_totals, running, wait_drained, wait_for_totals
from warroom_aggregator.consumer import Consumer
from warroom_aggregator.rebuild import rebuild
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.main import app as cli


async def test_rebuild_gives_same_totals_as_live_consumption(
    consumer: Consumer, pool: asyncpg.Pool, js: JetStreamContext, settings: AggregatorSettings
) -> None:
    reports = Reports()
    reports.lives(400)
    await publish(js, reports.envelopes[:700])
    await js.publish("warroom.report.submitted.10.1001", b"poison")
    await publish(js, reports.envelopes[700:])
    async with running(consumer):
        await wait_drained(js)
    live = await read_totals(pool)

    counted = await rebuild(settings.model_copy(update={"batch_size": 97}))

    assert live == reports.truth()
    assert await read_totals(pool) == live
    assert counted == len(reports.envelopes)
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == counted
    indexes = await pool.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'totals'")
    assert {r["indexname"] for r in indexes} == {"totals_pkey", "totals_period"}


async def test_rebuild_while_reports_keep_arriving_loses_nothing(
    aggregator: httpx.AsyncClient, pool: asyncpg.Pool, js: JetStreamContext,
    settings: AggregatorSettings,
) -> None:  # fmt: skip
    before, during = Reports(), Reports()
    before.lives(300)
    during.lives(300)
    await publish(js, before.envelopes)
    await wait_for_totals(pool, before.truth())
    answers: list[int] = []

    async def mid_rebuild(seq: int, target: int) -> None:
        if not answers:  # queries answer from the old tables; the live consumer keeps going
            answers.append((await aggregator.get("/v1/totals")).json()["reports"])
            await publish(js, during.envelopes)

    await rebuild(settings.model_copy(update={"batch_size": 50}), progress=mid_rebuild)
    await wait_drained(js)

    assert answers == [sum(1 for f in before.current.values() if f is not None)]
    everything = [f for r in (before, during) for f in r.current.values() if f is not None]
    assert await read_totals(pool) == ground_truth(everything)
    count = await pool.fetchval("SELECT count(*) FROM processed_events")
    assert count == len(before.envelopes) + len(during.envelopes)


async def test_rebuild_command_swaps_in_the_same_totals(
    consumer: Consumer, pool: asyncpg.Pool, js: JetStreamContext, settings: AggregatorSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    reports = Reports()
    reports.lives(100)
    await publish(js, reports.envelopes)
    async with running(consumer):
        await wait_drained(js)
    monkeypatch.setenv("WARROOM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WARROOM_NATS_URL", settings.nats_url)

    # The command runs its own event loop (`asyncio.run`), so it runs in a thread of its own.
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["aggregator", "rebuild"])

    assert result.exit_code == 0, result.output
    assert f"totals rebuilt: {len(reports.envelopes)} events counted" in result.stdout
    assert await read_totals(pool) == reports.truth()
