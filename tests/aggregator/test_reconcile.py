import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from nats.js import JetStreamContext
from typer.testing import CliRunner

from tests.aggregator.events import Key, Reports, Vector, publish
from tests.aggregator.helpers import eventually, running, wait_drained
from warroom_aggregator.consumer import Consumer
from warroom_aggregator.reconcile import Counts, Difference, compare, reconcile
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.embedded import free_port
from warroom_cli.main import app as cli
from warroom_shared.domain import Sector


def counts_row(district: str, programme: str, vector: Vector) -> dict[str, Any]:
    """One row of the reporting service's `GET /v1/reports:counts`."""
    sectors = dict(zip((s.value for s in Sector), vector[2:], strict=True))
    return {"district_code": district, "programme": programme, "reports": vector[0],
            "households": vector[1], "participants": sectors}  # fmt: skip


def reporting_rows(truth: dict[Key, Vector], year: int, quarter: int) -> list[dict[str, Any]]:
    return [
        counts_row(code, programme, vector)
        for (scope, code, y, q, programme, dimension), vector in sorted(truth.items())
        if (scope, y, q, dimension) == ("district", year, quarter, "")
    ]


def reporting_stub(rows: list[dict[str, Any]]) -> FastAPI:
    stub = FastAPI()

    @stub.get("/v1/reports:counts")
    async def counts(fiscal_year: int, quarter: int) -> dict[str, Any]:
        return {"fiscal_year": fiscal_year, "quarter": quarter, "rows": rows}

    return stub


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


async def test_reconcile_period_finds_planted_difference_in_real_totals(
    consumer: Consumer, js: JetStreamContext, settings: AggregatorSettings
) -> None:
    reports = Reports()
    reports.lives(300)
    await publish(js, reports.envelopes)
    async with running(consumer):
        await wait_drained(js)
    rows = reporting_rows(reports.truth(), 2568, 2)
    planted = [*rows[:3], {**rows[3], "households": rows[3]["households"] + 1}, *rows[4:]]

    found = {}
    for name, served in (("same", rows), ("planted", planted)):
        transport = httpx.ASGITransport(app=reporting_stub(served))
        async with httpx.AsyncClient(transport=transport) as client:
            found[name] = await reconcile(settings, 2568, 2, "http://reporting", client)

    assert len(rows) > 10
    assert found["same"] == []
    district, programme = rows[3]["district_code"], rows[3]["programme"]
    households = rows[3]["households"]
    assert found["planted"] == [
        Difference(district, programme, "households", households, households + 1)
    ]


@pytest.fixture
def reporting_url() -> Iterator[str]:
    """A stub reporting service on a real port, for the CLI's own HTTP client."""
    port = free_port()
    rows = [counts_row("1001", "cast", [2, 5, 1, 1, 1, 1, 1, 1, 1])]
    server = uvicorn.Server(uvicorn.Config(reporting_stub(rows), port=port, log_config=None))
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


async def test_reconcile_command_exits_1_listing_differences(
    database_url: str, reporting_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await eventually(lambda: _up(reporting_url), bool, timeout=10)
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)
    args = ["reconcile", "--fiscal-year", "2568", "--quarter", "2"]

    differing = await _invoke([*args, "--reporting-url", reporting_url])
    unreachable = await _invoke([*args, "--reporting-url", "http://127.0.0.1:9"])
    invalid = await _invoke(["reconcile", "--fiscal-year", "68", "--quarter", "2"])

    assert differing.exit_code == 1
    assert "1001 cast reports: aggregator 0, reporting 2 (-2)" in differing.stdout
    assert "1001 cast households: aggregator 0, reporting 5 (-5)" in differing.stdout
    assert unreachable.exit_code == 2
    assert invalid.exit_code == 2


async def _up(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            await client.get(url)
    except httpx.HTTPError:
        return False
    return True


async def _invoke(args: list[str]) -> Any:
    """The CLI runs its own event loop (`asyncio.run`), so it runs in a thread of its own."""
    return await asyncio.to_thread(CliRunner().invoke, cli, args)
