"""The query of a report list or export: its filters, checked and held to the caller's area, and
its order."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError

from warroom_reporting.api.deps import DirectoryDep, Reader
from warroom_reporting.models import IsoDate
from warroom_reporting.queries import NEWEST_FIRST, BadCursor, Order, Position, ReportFilter, Status
from warroom_reporting.validation import require_ready
from warroom_shared.directory import DistrictDirectory
from warroom_shared.domain import Dimension, Programme, Stage
from warroom_shared.i18n import Message
from warroom_shared.security.access import area_filters
from warroom_shared.security.principal import Principal


def invalid(field: str, message: str) -> RequestValidationError:
    """A 422 naming `query.<field>`, the same shape as FastAPI's own validation errors."""
    error = {
        "loc": ("query", field),
        "msg": message,
        "type": "value_error",
        "ctx": {"error": message},
    }
    return RequestValidationError([error])


async def report_filter(
    principal: Reader,
    directory: DirectoryDep,
    district: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
    province: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    subdistrict: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    fiscal_year: Annotated[int | None, Query(ge=2560, le=2700, description="Buddhist Era")] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4, description="Q1 = Oct-Dec")] = None,
    programme: Programme | None = None,
    status: Annotated[
        Status, Query(description="active (the default), retracted or all")
    ] = "active",
    since: Annotated[
        IsoDate | None, Query(alias="from", description="activity date on or after (YYYY-MM-DD)")
    ] = None,
    until: Annotated[
        IsoDate | None, Query(alias="to", description="activity date on or before (YYYY-MM-DD)")
    ] = None,
    dimension: Dimension | None = None,
    stage: Annotated[Stage | None, Query(description="a participation stage")] = None,
    sort: Annotated[
        Order,
        Query(
            description="-activity_date: newest first (the default); activity_date: "
            "oldest first; the report id breaks ties"
        ),
    ] = NEWEST_FIRST,
) -> ReportFilter:
    """The filters, held to the caller's area: a place outside it answers 403, a place that
    does not exist (or does not lie in the other places given) 422."""
    _check_places(principal, directory, district, province, subdistrict)
    _check_days(since, until)
    district, province = area_filters(principal, district, province)
    return ReportFilter(
        # a subdistrict's list reads its district's index (a child code begins with its parent's)
        district=district or (subdistrict[:4] if subdistrict else None),
        province=province, subdistrict=subdistrict, fiscal_year=fiscal_year, quarter=quarter,
        programme=programme.value if programme else None, status=status, since=since,
        until=until, dimension=dimension.value if dimension else None,
        stage=stage.value if stage else None, order=sort,
    )  # fmt: skip


def _check_places(
    principal: Principal,
    directory: DistrictDirectory,
    district: str | None,
    province: str | None,
    subdistrict: str | None,
) -> None:
    # 403 for a place outside the area: a subdistrict's district (its code's first 4 digits)
    area_filters(principal, subdistrict[:4] if subdistrict else None, None)
    area_filters(principal, district, province)
    if district is None and province is None and subdistrict is None:
        return
    require_ready(directory)
    if province is not None and not directory.in_province(province):
        raise invalid("province", Message("unknown_province", code=province))
    if district is not None:
        known = directory.get(district)
        if known is None:
            raise invalid("district", Message("unknown_code", code=district))
        if province is not None and known.province_code != province:
            raise invalid(
                "district", Message("not_a_district", district=district, province=province)
            )
    if subdistrict is not None:
        if not directory.has_subdistrict(subdistrict[:4], subdistrict):
            raise invalid("subdistrict", Message("unknown_subdistrict", code=subdistrict))
        if district is not None and not subdistrict.startswith(district):
            raise invalid(
                "subdistrict",
                Message("not_a_subdistrict", subdistrict=subdistrict, district=district),
            )
        if province is not None and not subdistrict.startswith(province):
            raise invalid(
                "subdistrict",
                Message("not_in_province", subdistrict=subdistrict, province=province),
            )


def _check_days(since: dt.date | None, until: dt.date | None) -> None:
    if since is not None and until is not None and since > until:
        raise invalid("from", Message("from_after_to", since=since, until=until))


FilterDep = Annotated[ReportFilter, Depends(report_filter)]


def page_start(flt: ReportFilter, cursor: str | None) -> Position | None:
    """Where a page starts: after the position `cursor` names (a `next_cursor` of the same
    filters and order), or at the first report; 422 for any other cursor."""
    if cursor is None:
        return None
    try:
        return Position.of(cursor, flt)
    except BadCursor as exc:
        raise invalid("cursor", str(exc)) from None
