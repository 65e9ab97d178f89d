"""The collection of reports: filtered pages, CSV export, bulk NDJSON import, period counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from warroom_reporting import bulk, queries
from warroom_reporting.api.deps import ConnDep, DirectoryDep, PoolDep, Writer
from warroom_reporting.api.filters import FilterDep, page_start
from warroom_reporting.models import Report
from warroom_reporting.queries import Position
from warroom_reporting.validation import require_ready
from warroom_shared.domain import Programme, Sector, Stage
from warroom_shared.http import Problem, language_of
from warroom_shared.i18n import localized
from warroom_shared.security.access import ADMIN, MONITOR, NATIONAL_VIEWER, Allow
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["reports"])


class ReportPage(BaseModel):
    items: list[Report]
    next_cursor: str | None = Field(
        description="Opaque: pass it back as `cursor`, with the same filters and sort"
    )


class BulkAnswer(BaseModel):
    created: int
    duplicate: int
    conflict: int
    refused: int
    results: list[dict[str, Any]]


class CountsRow(BaseModel):
    """Active reports of one district and programme in the period."""

    district_code: str
    programme: Programme
    reports: int
    households: int
    participants: dict[Sector, int]
    stages: dict[Stage, int] = Field(description="reports naming each participation stage")
    months: dict[str, int] = Field(
        description="reports per calendar month of the activity date ('1'-'12'); "
        "a month with none is left out"
    )


class PeriodCounts(BaseModel):
    fiscal_year: int
    quarter: int
    rows: list[CountsRow]


@router.get("/reports")
async def list_reports(
    flt: FilterDep,
    conn: ConnDep,
    cursor: Annotated[str | None, Query(description="a `next_cursor`, as it came")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ReportPage:
    """Reports matching the filter, newest activity first unless `sort` says otherwise, a page
    at a time (pass `next_cursor` back as `cursor`). Retracted reports only when asked for."""
    items = await queries.page(conn, flt, page_start(flt, cursor), limit)
    last = Position(items[-1].activity_date, items[-1].report_id) if len(items) == limit else None
    return ReportPage(items=items, next_cursor=last.cursor(flt) if last else None)


class _Download(StreamingResponse):
    """Streams `rest` after `first`, and closes `rest` however the download ends (a client that
    went away included), so that what it holds is given back at once."""

    def __init__(self, first: bytes, rest: AsyncGenerator[bytes, None], **kwargs: Any) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield first
            async for chunk in rest:
                yield chunk

        super().__init__(chunks(), **kwargs)
        self._rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._rest.aclose()


@router.get("/reports.csv", response_class=StreamingResponse, responses={503: {}})
async def export_reports_csv(flt: FilterDep, pool: PoolDep, request: Request) -> StreamingResponse:
    """The same filter and order as CSV (UTF-8 with BOM, so Excel shows Thai), streamed. Text that a
    spreadsheet would run as a formula comes behind a `'`. A few at once per server: beyond
    that, 503 with Retry-After."""
    rows = queries.csv_chunks(pool, request.app.state.exports, flt)
    first = await anext(rows)  # an export slot and a connection, or 503
    return _Download(
        first, rows, media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="reports.csv"'},
    )  # fmt: skip


@router.post(
    "/reports:bulk",
    openapi_extra={
        "requestBody": {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}
    },
)
async def submit_reports_bulk(
    principal: Writer, request: Request, pool: PoolDep, directory: DirectoryDep
) -> BulkAnswer:
    """NDJSON, one report a line (at most 10,000 lines, 10 MiB): an answer per line."""
    require_ready(directory)
    lines = (await request.body()).splitlines()
    if len(lines) > bulk.MAX_LINES:
        raise Problem(413, "too_many_lines", max_lines=bulk.MAX_LINES)
    refused, valid = await bulk.parse(lines, directory, principal)
    stored = await bulk.store(pool, valid, directory, principal.subject) if valid else []
    results = sorted(refused + stored, key=lambda r: r.line)
    tally = Counter(r.status for r in results)
    return BulkAnswer(
        created=tally["created"], duplicate=tally["duplicate"], conflict=tally["conflict"],
        refused=tally["refused"],
        results=localized([r.as_dict() for r in results], language_of(request.scope)),
    )  # fmt: skip


@router.get("/reports:counts")
async def count_reports(
    _: Annotated[Principal, Depends(Allow(ADMIN, NATIONAL_VIEWER, MONITOR))],
    conn: ConnDep,
    fiscal_year: Annotated[int, Query(ge=2560, le=2700)],
    quarter: Annotated[int, Query(ge=1, le=4)],
) -> PeriodCounts:
    """Active reports of a period per district and programme, with their participants,
    households, stages and months (what `warroom reconcile` checks)."""
    rows = await queries.counts(conn, fiscal_year, quarter)
    return PeriodCounts(
        fiscal_year=fiscal_year,
        quarter=quarter,
        rows=[CountsRow.model_validate(row) for row in rows],
    )
