"""Submitting, reading, amending and retracting single reports."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Header, Request, Response

from warroom_reporting import store
from warroom_reporting.api.deps import ConnDep, DirectoryDep, Reader, Writer
from warroom_reporting.batcher import SubmitBatcher
from warroom_reporting.models import (
    HistoryEntry,
    Receipt,
    Report,
    ReportContent,
    ReportIn,
    Retraction,
)
from warroom_reporting.validation import place_errors, refuse, require_ready
from warroom_shared.directory import DistrictDirectory
from warroom_shared.http import Problem, version_in
from warroom_shared.i18n import Message
from warroom_shared.jsonbody import StrictJSONRoute
from warroom_shared.security.access import outside_area
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1/reports", tags=["reports"], route_class=StrictJSONRoute)

IfMatch = Annotated[str | None, Header(description="The report's ETag (its version)")]


def _checked_province(
    principal: Principal, directory: DistrictDirectory, content: ReportContent
) -> str:
    require_ready(directory)
    errors = place_errors(directory, content)
    if errors:
        raise refuse(errors)
    if not principal.covers_district(content.district_code):
        raise outside_area("district", content.district_code)
    district = directory.get(content.district_code)
    assert district is not None
    return district.province_code


def _version(if_match: str | None, required: bool) -> int | None:
    if if_match is None:
        if required:
            raise Problem(428, "precondition_required")
        return None
    version = version_in(if_match)
    if version is None:
        raise Problem(412, "stale_version", Message("unknown_version"))
    return version


@router.post(
    "", status_code=201, response_model=Receipt,
    responses={200: {"model": Receipt}, 409: {}, 503: {}},
)  # fmt: skip
async def submit_report(principal: Writer, report: ReportIn, request: Request) -> Response:
    """Submit a report. Resending the same report answers 200 with the original receipt."""
    state = request.app.state  # its directory and batcher: no dependency to solve on each POST
    province = _checked_province(principal, state.directory, report)
    batcher: SubmitBatcher = state.batcher
    receipt, created = await batcher.submit(report, province, principal.subject)
    # Written as it is: FastAPI would validate the receipt against its own model again first.
    return Response(
        receipt.model_dump_json(), 201 if created else 200,
        {"Location": f"/v1/reports/{report.report_id}"}, media_type="application/json",
    )  # fmt: skip


async def _report_in_area(conn: ConnDep, principal: Principal, report_id: uuid.UUID) -> Report:
    """The report, or 404 when there is none or it lies outside the caller's area."""
    report = await store.get(conn, report_id)
    if report is None or not principal.covers_district(report.district_code):
        raise Problem(404, "report_not_found", report_id=report_id)
    return report


@router.get("/{report_id}")
async def get_report(
    principal: Reader, report_id: uuid.UUID, conn: ConnDep, response: Response
) -> Report:
    """One report as it stands now; its ETag is what an amendment must send back."""
    report = await _report_in_area(conn, principal, report_id)
    response.headers["ETag"] = store.etag(report.version)
    return report


@router.put("/{report_id}")
async def amend_report(
    principal: Writer,
    report_id: uuid.UUID,
    content: ReportContent,
    conn: ConnDep,
    directory: DirectoryDep,
    response: Response,
    if_match: IfMatch = None,
) -> Report:
    """Amend a report (a new version); a stale If-Match answers 412. Content identical to the
    report's now answers it as it stands, with no new version or event (If-Match stale or not)."""
    version = _version(if_match, required=True)
    assert version is not None
    await _report_in_area(conn, principal, report_id)
    province = _checked_province(principal, directory, content)
    report = await store.amend(conn, report_id, version, content, province, principal.subject)
    response.headers["ETag"] = store.etag(report.version)
    return report


@router.delete("/{report_id}")
async def retract_report(
    principal: Writer,
    report_id: uuid.UUID,
    body: Annotated[Retraction, Body()],
    conn: ConnDep,
    response: Response,
    if_match: IfMatch = None,
) -> Report:
    """Retract a report, with a reason; it stops counting in the totals."""
    await _report_in_area(conn, principal, report_id)
    version = _version(if_match, required=False)
    report = await store.retract(conn, report_id, version, body, principal.subject)
    response.headers["ETag"] = store.etag(report.version)
    return report


@router.get("/{report_id}/history")
async def get_report_history(
    principal: Reader, report_id: uuid.UUID, conn: ConnDep
) -> list[HistoryEntry]:
    """Every version of a report: who, when, what changed, and why for a retraction."""
    await _report_in_area(conn, principal, report_id)
    entries = await store.history(conn, report_id)
    if not entries:
        raise Problem(404, "report_not_found", report_id=report_id)
    return entries
