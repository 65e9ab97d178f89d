"""The peer a team would write for single reports: FastAPI with the same pydantic model, each
report inserted with asyncpg in its own transaction. No outbox, no events, no tokens, no
metrics: the baseline the reporting service, doing all of those, is measured against.

Its table is `public.peer_reports`: the reporting service's `reports`, with the same indexes
(`create_table`), so both write the same row to the same kind of table.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from warroom_reporting.models import ReportIn
from warroom_reporting.store import CONTENT_COLUMNS, content_row

INSERT = (
    f"INSERT INTO public.peer_reports (report_id, {', '.join(CONTENT_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(CONTENT_COLUMNS) + 2))})"
)


async def create_table(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "CREATE TABLE public.peer_reports (LIKE reporting.reports INCLUDING DEFAULTS "
        "INCLUDING CONSTRAINTS INCLUDING INDEXES); "
        "ALTER TABLE public.peer_reports DROP COLUMN submitted_hash"
    )


async def _jsonb(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def create_app() -> FastAPI:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(os.environ["WARROOM_DATABASE_URL"], init=_jsonb)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/reports", status_code=201)
    async def create_report(report: ReportIn) -> dict[str, str]:
        assert pool is not None
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                INSERT, report.report_id, *content_row(report, report.district_code[:2])
            )
        return {"report_id": str(report.report_id)}

    return app
