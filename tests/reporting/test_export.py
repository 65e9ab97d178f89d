"""CSV export: no cell runs as a spreadsheet formula, and downloads are capped per server so
that slow ones never take the connections single reports need."""

import asyncio
import contextlib
import csv
import io
from collections.abc import Callable

import asyncpg
import httpx
import pytest

from tests.utils.apps import live_server
from tests.utils.auth import bearer
from tests.utils.factories import report
from warroom_reporting import SCHEMA
from warroom_reporting.app import create_app
from warroom_reporting.queries import Exports, csv_text, csv_text_restored
from warroom_reporting.settings import ReportingSettings

FORMULAS = ["=HYPERLINK(\"http://x.example\",\"คลิก\")", "+66 2 123 4567", "-ลดราคา", "@SUM(A1)",
            "'=quoted already", "''+two quotes"]  # fmt: skip
PLAIN = ["ประปา = น้ำ", "'ธรรมดา", "a-b"]


@pytest.mark.parametrize("text", [*FORMULAS, *PLAIN, "\tx", "\rx", "'\tx", "'", ""])
def test_csv_text_round_trip_gives_back_the_text(text: str) -> None:
    cell = csv_text(text)
    assert not cell or cell[0] not in "=+-@\t\r"
    assert csv_text_restored(cell) == text


async def test_export_csv_puts_formulas_behind_a_quote(reporting: httpx.AsyncClient) -> None:
    for text in [*FORMULAS, *PLAIN]:
        answer = await reporting.post("/v1/reports", json=report(title=text, details=text))
        assert answer.status_code == 201, answer.text
    sheet = await reporting.get("/v1/reports.csv")
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    cells = {row["title"] for row in rows} | {row["details"] for row in rows}
    assert cells == {"'" + t for t in FORMULAS} | set(PLAIN)


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def _seed_large(client: httpx.AsyncClient, database_url: str) -> None:
    """About 20 MB of CSV: far more than the sockets between a server and a client that stops
    reading can hold, so such a download stays in progress."""
    first = report(details="ก" * 10_000)
    assert (await client.post("/v1/reports", json=first)).status_code == 201
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        await conn.execute(
            "INSERT INTO reports SELECT gen_random_uuid(), r.version, r.status, "
            "r.submitted_hash, r.programme, r.province_code, r.district_code, r.subdistrict_code, "
            "r.village_no, r.activity_date, r.fiscal_year, r.quarter, r.dimensions, r.stages, "
            "r.participants, r.households, r.title, r.details, r.reported_by, r.received_at, "
            "r.updated_at FROM reports r, generate_series(1, 700)"
        )
    finally:
        await conn.close()


async def test_exports_beyond_the_cap_answer_503_while_single_reports_get_through(
    reporting_settings: ReportingSettings, database_url: str
) -> None:
    settings = reporting_settings.model_copy(
        update={"pool_max_size": 4, "export_max_concurrent": 2}
    )
    app = create_app(settings)
    async with (
        live_server(app) as url,
        httpx.AsyncClient(base_url=url, headers=bearer(), timeout=30) as client,
    ):
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        exports: Exports = app.state.exports
        await _seed_large(client, database_url)
        async with contextlib.AsyncExitStack() as slow:
            for _ in range(2):  # clients that read the headers, then nothing more
                held = await slow.enter_async_context(client.stream("GET", "/v1/reports.csv"))
                assert held.status_code == 200
            assert exports.running == 2
            busy = await client.get("/v1/reports.csv")
            assert busy.status_code == 503, busy.status_code
            assert busy.json()["error"]["code"] == "too_many_exports"
            assert busy.headers["Retry-After"] == "10"
            for _ in range(5):
                assert (await client.post("/v1/reports", json=report())).status_code == 201
        await _until(lambda: exports.running == 0)  # the slow clients went away
        async with client.stream("GET", "/v1/reports.csv") as again:
            assert again.status_code == 200
