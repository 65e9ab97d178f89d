"""Which of the programme's districts have reported in a quarter, on time or late, and which
designated Sustainable Village villages have."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from warroom_aggregator import deadlines, queries
from warroom_aggregator.api.deps import (
    ConnDep,
    DirectoryDep,
    FiscalYear,
    Quarter,
    Viewer,
    invalid,
)
from warroom_aggregator.models import (
    Completeness,
    DistrictRef,
    DistrictTimeliness,
    Timeliness,
    VillageCompleteness,
    VillageStatus,
)
from warroom_shared.directory import DistrictDirectory
from warroom_shared.events import DirectoryDistrict
from warroom_shared.fiscal import today_bangkok
from warroom_shared.http import Problem
from warroom_shared.i18n import Message
from warroom_shared.security.access import area_filters
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["completeness"])

ProvinceCode = Annotated[str | None, Query(pattern=r"^[0-9]{2}$", examples=["10"])]
DistrictCode = Annotated[str | None, Query(pattern=r"^[0-9]{4}$", examples=["5001"])]


@router.get("/completeness")
async def get_completeness(
    principal: Viewer,
    conn: ConnDep,
    directory: DirectoryDep,
    fiscal_year: FiscalYear,
    quarter: Quarter,
    province: ProvinceCode = None,
    district: DistrictCode = None,
) -> Completeness:
    """The programme's districts of the area (an officer's own district or province when it
    names none): each reported on time (a report received by the quarter's deadline), late, or
    not yet; the reporting and on-time rates, the deadline and the days left."""
    province, district = _area(principal, province, district)
    districts = _districts(directory, province, district)
    deadline = await deadlines.of_quarter(conn, fiscal_year, quarter)
    reported = await queries.reported_districts(conn, fiscal_year, quarter, deadline.due_on)
    statuses = [_status(d, reported) for d in sorted(districts, key=lambda d: d.code)]
    counts = {s: sum(1 for d in statuses if d.status == s) for s in ("on_time", "late", "not_yet")}
    done = counts["on_time"] + counts["late"]
    return Completeness(
        fiscal_year=fiscal_year,
        quarter=quarter,
        province=province,
        district=district,
        due_on=deadline.due_on,
        days_left=(deadline.due_on - today_bangkok()).days,
        districts=len(districts),
        reported=done,
        on_time=counts["on_time"],
        late=counts["late"],
        not_reported=counts["not_yet"],
        reported_share=_rate(done, len(districts)),
        reporting_rate=_rate(done, len(districts)),
        on_time_rate=_rate(counts["on_time"], len(districts)),
        missing=[DistrictRef(**_ref(d)) for d in statuses if d.status == "not_yet"],
        statuses=statuses,
    )


def _programme_districts(
    directory: DistrictDirectory, province: str | None
) -> list[DirectoryDistrict]:
    """The programme's districts of a province, or of the nation; 404 for no such province."""
    if province is None:
        return directory.in_programme()
    districts = directory.in_province(province)
    if not districts:
        raise Problem(404, "province_not_found", code=province)
    return [d for d in districts if d.in_programme]


def _status(district: DirectoryDistrict, reported: dict[str, bool]) -> DistrictTimeliness:
    on_time = reported.get(district.code)
    status: Timeliness = "not_yet" if on_time is None else "on_time" if on_time else "late"
    return DistrictTimeliness(
        **_ref(district), status=status, subdistricts=len(district.subdistricts)
    )


def _ref(district: DistrictRef | DirectoryDistrict) -> dict[str, str]:
    return {"code": district.code, "province_code": district.province_code,
            "name_th": district.name_th, "name_en": district.name_en}  # fmt: skip


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@router.get("/completeness/villages")
async def get_village_completeness(
    principal: Viewer,
    conn: ConnDep,
    directory: DirectoryDep,
    fiscal_year: FiscalYear,
    quarter: Quarter,
    province: ProvinceCode = None,
    district: DistrictCode = None,
) -> VillageCompleteness:
    """The villages the programme's districts designated for the fiscal year (Sustainable
    Village: one per subdistrict), each with its active reports of the quarter; an officer's
    own area when the filters name none."""
    province, district = _area(principal, province, district)
    districts = _districts(directory, province, district)
    reports = await queries.reported_villages(
        conn, fiscal_year, quarter, [d.code for d in districts]
    )
    rows = _village_rows(districts, fiscal_year, reports)
    done = sum(1 for r in rows if r.reports > 0)
    return VillageCompleteness(
        fiscal_year=fiscal_year, quarter=quarter, province=province, district=district,
        villages=len(rows), reported=done, not_reported=len(rows) - done,
        reporting_rate=_rate(done, len(rows)), rows=rows,
    )  # fmt: skip


def _village_rows(
    districts: list[DirectoryDistrict], fiscal_year: int, reports: dict[tuple[str, int], int]
) -> list[VillageStatus]:
    """The districts' villages designated for the fiscal year, in code order, with reports."""
    rows = [
        VillageStatus(
            district_code=d.code,
            subdistrict_code=v.subdistrict_code,
            village_no=v.village_no,
            name=v.name,
            reports=reports.get((v.subdistrict_code, v.village_no), 0),
        )
        for d in districts
        for v in d.designated_villages.get(fiscal_year, [])
    ]
    return sorted(rows, key=lambda r: (r.subdistrict_code, r.village_no))


def _area(
    principal: Principal, province: str | None, district: str | None
) -> tuple[str | None, str | None]:
    """The province or district asked for, else an officer's own area; a place outside the
    caller's area answers 403."""
    if province is not None and district is not None:
        raise invalid("district", Message("province_or_district"))
    district, province = area_filters(principal, district, province)
    return (None, district) if district is not None else (province, None)


def _districts(
    directory: DistrictDirectory, province: str | None, district: str | None
) -> list[DirectoryDistrict]:
    """The programme's districts of the place: one district (none if it is outside the
    programme), a province's, or the nation's."""
    if district is not None:
        found = directory.get(district)
        if found is None:
            raise Problem(404, "district_not_found", code=district)
        return [found] if found.in_programme else []
    return _programme_districts(directory, province)
