"""Group commit: a report the database refuses fails only its own submission, a database that
goes away answers everyone 503, and a full queue answers 503 at once."""

import asyncio
from collections.abc import Callable

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.utils.apps import serve
from tests.utils.factories import report
from warroom_reporting import SCHEMA
from warroom_reporting.app import create_app
from warroom_reporting.batcher import SubmitBatcher
from warroom_reporting.models import ReportIn
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db
from warroom_shared.http import Problem


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


def _crafted(**values: object) -> ReportIn:
    """A report holding values that validation would refuse: what reaches the batch when some
    value slips through it."""
    return ReportIn.model_validate(report()).model_copy(update=values)


async def test_batch_with_refused_reports_stores_and_answers_the_others(
    reporting_settings: ReportingSettings,
) -> None:
    good = [ReportIn.model_validate(report()) for _ in range(20)]
    nul = _crafted(title="ประปา\x00หมู่บ้าน")  # PostgreSQL's text holds no NUL
    surrogate = _crafted(details="\ud800")  # not Unicode: cannot even be encoded
    smallint = _crafted(village_no=70_000)  # asyncpg cannot encode it into a smallint
    pool = await db.create_pool(reporting_settings.database_url, SCHEMA)
    batcher = SubmitBatcher(pool, committers=1)
    try:
        posts = [
            asyncio.create_task(batcher.submit(r, "12", "officer"))
            for r in [*good[:10], nul, *good[10:], smallint, surrogate]
        ]
        await _until(lambda: batcher.waiting >= 22)  # all queued: one batch
        committer = asyncio.create_task(batcher.run())
        answers = await asyncio.gather(*posts, return_exceptions=True)
        await batcher.stop()
        await committer
        stored = await pool.fetchval("SELECT count(*) FROM reports")
        events = await pool.fetchval("SELECT count(*) FROM outbox")
    finally:
        await pool.close()

    refused = [answers.pop(10), answers.pop(), answers.pop()]
    for problem in refused:
        assert isinstance(problem, Problem), problem
        assert (problem.status, problem.fields and problem.fields[0]["type"]) == (
            422,
            "unstorable",
        )
    assert all(isinstance(a, tuple) and a[1] for a in answers), answers
    assert (stored, events) == (20, 20)


@pytest.fixture
def small_queue(reporting_settings: ReportingSettings) -> FastAPI:
    return create_app(reporting_settings.model_copy(update={"submit_queue_max": 3}))


async def _waiting_on_lock(admin: asyncpg.Connection) -> list[int]:
    """The service's backends waiting on the test's lock of the reports table."""
    async with asyncio.timeout(10):
        while True:
            rows = await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if rows:
                return [r["pid"] for r in rows]
            await asyncio.sleep(0.01)


async def test_submit_report_when_queue_is_full_answers_503_with_retry_after(
    small_queue: FastAPI, database_url: str
) -> None:
    admin = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        async with serve(small_queue) as client:
            await asyncio.wait_for(small_queue.state.directory.ready.wait(), 10)
            batcher: SubmitBatcher = small_queue.state.batcher
            locked = admin.transaction()
            await locked.start()
            await admin.execute("LOCK TABLE reports IN EXCLUSIVE MODE")  # commits wait
            waiting = [asyncio.create_task(client.post("/v1/reports", json=report()))
                       for _ in range(3)]  # fmt: skip
            await _until(lambda: batcher.waiting == 3)
            async with asyncio.timeout(10):
                full = await client.post("/v1/reports", json=report())
            assert full.status_code == 503, full.text
            assert full.json()["error"]["code"] == "too_busy"
            assert full.headers["Retry-After"] == "1"
            await locked.rollback()
            assert [(await w).status_code for w in waiting] == [201, 201, 201]
            assert (await client.post("/v1/reports", json=report())).status_code == 201
    finally:
        await admin.close()


async def test_batch_when_database_ends_its_connection_answers_each_request_503(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, database_url: str
) -> None:
    """An outage in the middle of a batch's statement is not one report's fault: every request
    of it answers 503 database_unavailable, none 422 or 500."""
    admin = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        locked = admin.transaction()
        await locked.start()
        await admin.execute("LOCK TABLE reports IN EXCLUSIVE MODE")
        posts = [asyncio.create_task(reporting.post("/v1/reports", json=report()))
                 for _ in range(20)]  # fmt: skip
        batcher: SubmitBatcher = reporting_app.state.batcher
        await _until(lambda: batcher.waiting == 20)
        blocked = await _waiting_on_lock(admin)
        await admin.fetch("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", blocked)
        await locked.rollback()
        answers = await asyncio.gather(*posts)
    finally:
        await admin.close()
    codes = {a.status_code for a in answers}
    assert codes <= {201, 503}, [a.text for a in answers if a.status_code not in (201, 503)]
    assert 503 in codes
    for refused in (a for a in answers if a.status_code == 503):
        assert refused.json()["error"]["code"] == "database_unavailable"
