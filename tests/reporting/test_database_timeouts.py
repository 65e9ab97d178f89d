"""No request waits on the database for ever: a statement that waits too long (here on a lock
another connection holds) and a pool with no free connection answer 503 with Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import asyncpg
import httpx
import pytest

from tests.utils.apps import serve
from warroom_reporting.app import create_app
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db


@pytest.fixture
async def reports_locked(reporting_settings: ReportingSettings) -> AsyncIterator[None]:
    """Another connection holds the reports table: every statement on it waits."""
    conn = await asyncpg.connect(reporting_settings.database_url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE reporting.reports IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await conn.close()


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert answer.headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    "timeouts",
    [
        # PostgreSQL cancels the statement (QueryCanceledError)...
        {"database_statement_timeout": 0.3},
        # ...or, when the server does not answer, the client gives up (TimeoutError)
        {"database_statement_timeout": 60, "database_command_timeout": 0.3},
    ],
    ids=["statement", "command"],
)
async def test_list_reports_waiting_on_a_lock_answers_503(
    reporting_settings: ReportingSettings, reports_locked: None, timeouts: dict[str, float]
) -> None:
    app = create_app(reporting_settings.model_copy(update=timeouts))
    async with serve(app) as client, asyncio.timeout(10):
        answer = await client.get("/v1/reports")
    assert_unavailable(answer)


async def test_list_reports_with_no_free_connection_answers_503(
    reporting_settings: ReportingSettings,
) -> None:
    # No relay: nothing else takes a connection, or gives one back, while the test holds them.
    update = {"database_acquire_timeout": 0.3, "relay_enabled": False}
    app = create_app(reporting_settings.model_copy(update=update))
    async with serve(app) as client, AsyncExitStack() as held, asyncio.timeout(10):
        pool: db.Pool = app.state.pool
        for _ in range(pool.get_max_size()):
            await held.enter_async_context(pool.acquire())
        answer = await client.get("/v1/reports")
    assert_unavailable(answer)
