"""Every error asyncpg raises while connections die, or when a time limit passes, answers 503
database_unavailable with Retry-After: the ones a PostgreSQL restart under load produced in
`tests/reporting/test_database_outage.py`, and those it may produce on another run."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
import pytest
from fastapi import APIRouter, Depends, FastAPI

from tests.utils.apps import serve
from warroom_reporting.settings import ReportingSettings
from warroom_shared.security.access import PUBLIC
from warroom_shared.service import service_app

ERRORS = [
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("connection is closed"),
    asyncpg.InterfaceError("pool is closing"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    ConnectionResetError("Connection reset by peer"),
    ConnectionError("unexpected connection_lost() call"),
    OSError("Multiple exceptions: [Errno 111] Connect call failed"),
    TimeoutError(),  # asyncio.TimeoutError too: connecting, pool.acquire, command_timeout
]  # fmt: skip


@contextlib.asynccontextmanager
async def nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: f"{type(e).__name__}:{e}")
async def test_a_database_error_answers_503_with_retry_after(error: Exception) -> None:
    router = APIRouter()

    @router.get("/fails")
    async def get_fails(_: Annotated[None, Depends(PUBLIC)]) -> None:
        raise error

    app = service_app("test", "A route the database fails.", nothing, ReportingSettings(), [router])
    async with serve(app, headers={}) as client:
        answer = await client.get("/fails")

    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert answer.headers["Retry-After"] == "1"
