import asyncio
import datetime as dt
import json
import uuid

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext
from typer.testing import CliRunner

from tests.aggregator.events import Reports, figures, full_truth, publish, submitted
from tests.aggregator.helpers import read_all, running, wait_drained, wait_for_totals
from warroom_aggregator.consumer import Consumer
from warroom_aggregator.rebuild import rebuild
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.main import app as cli


def best_practice_story(district: str) -> bytes:
    """A submitted event of the time best practice was a report programme."""
    body = submitted(uuid.uuid4(), figures(district=district)).model_dump(mode="json")
    body["data"]["figures"]["programme"] = "best_practice"
    return json.dumps(body).encode()


async def test_rebuild_gives_same_totals_as_live_consumption(
    consumer: Consumer, pool: asyncpg.Pool, js: JetStreamContext, settings: AggregatorSettings
) -> None:
    """Every counting table: totals with stages, months, days received, villages."""
    reports = Reports()
    reports.lives(400)
    await publish(js, reports.envelopes[:700])
    await js.publish("warroom.report.submitted.10.1001", b"poison")
    await js.publish("warroom.report.submitted.50.5001", best_practice_story("5001"))
    await publish(js, reports.envelopes[700:])
    await pool.execute("INSERT INTO deadlines (fiscal_year, quarter, due_on) "
                       "VALUES (2568, 2, '2025-04-20')")  # fmt: skip
    async with running(consumer):
        await wait_drained(js)
    live = await read_all(pool)

    counted = await rebuild(settings.model_copy(update={"batch_size": 97}))

    truth = reports.full_truth()
    assert live == truth
    assert all((truth.totals, truth.months, truth.received, truth.villages))
    assert await read_all(pool) == live
    assert counted == len(reports.envelopes) + 1  # the story too: read, counted nowhere
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == counted
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 1  # the poison only
    assert await pool.fetchval("SELECT due_on FROM deadlines") == dt.date(2025, 4, 20)
    indexes = await pool.fetch(
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
    )
    assert {(r["tablename"], r["indexname"]) for r in indexes} == {
        ("totals", "totals_pkey"), ("totals", "totals_period"),
        ("processed_events", "processed_events_pkey"), ("month_totals", "month_totals_pkey"),
        ("received_reports", "received_reports_pkey"), ("village_reports", "village_reports_pkey"),
        ("dead_letters", "dead_letters_pkey"), ("deadlines", "deadlines_pkey"),
        ("schema_migrations", "schema_migrations_pkey"),
    }  # fmt: skip


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
    assert await read_all(pool) == full_truth(everything)
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
    assert await read_all(pool) == reports.full_truth()
