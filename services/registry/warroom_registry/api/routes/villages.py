"""The districts' designated villages (Sustainable Village), by fiscal year.

The district's officers, its province's officers and admins designate; readers of teams read.
Each change commits with its events, then the district's directory entry is written.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from warroom_registry import directory, villages
from warroom_registry.api.deps import ConnDep, GeoDep, JetStreamDep, ScopeDep
from warroom_registry.geography import District, Geography
from warroom_registry.programme import ProgrammeScope, outside_programme
from warroom_registry.villages import Designation, VillageDesignate
from warroom_shared.http import Problem
from warroom_shared.i18n import Message
from warroom_shared.jsonbody import StrictJSONRoute
from warroom_shared.security.access import (
    ADMIN,
    DISTRICT_OFFICER,
    PROVINCE_OFFICER,
    READERS,
    Allow,
    outside_area,
)
from warroom_shared.security.principal import Principal

router = APIRouter(
    prefix="/v1/districts/{code}/villages", tags=["villages"], route_class=StrictJSONRoute
)

Reader = Annotated[Principal, Depends(Allow(*READERS))]
Manager = Annotated[Principal, Depends(Allow(ADMIN, PROVINCE_OFFICER, DISTRICT_OFFICER))]
DistrictCode = Annotated[str, Path(pattern=r"^[0-9]{4}$", examples=["5001"])]
FiscalYear = Annotated[int, Path(ge=2560, le=2700, description="Buddhist Era", examples=[2569])]
SubdistrictCode = Annotated[str, Path(pattern=r"^[0-9]{6}$", examples=["500101"])]


def _district(geo: Geography, principal: Principal, code: str) -> District:
    """The district, or 404 when there is none, 403 when it lies outside the caller's area."""
    district = geo.districts.get(code)
    if district is None:
        raise Problem(404, "district_not_found", code=code)
    if not principal.covers_district(code):
        raise outside_area("district", code)
    return district


def _writable(
    geo: Geography, scope: ProgrammeScope, principal: Principal, code: str, subdistrict: str
) -> District:
    """The district whose village may be designated: in the caller's area, in the programme,
    and holding the subdistrict."""
    district = _district(geo, principal, code)
    if not scope.includes(district):
        raise outside_programme(district)
    found = geo.subdistricts.get(subdistrict)
    if found is None or found.district_code != code:
        raise Problem(
            422, "subdistrict_not_in_district", subdistrict=subdistrict, district=code,
            fields=[{"field": "path.subdistrict_code", "type": "subdistrict_not_in_district",
                     "message": Message("subdistrict_of", district=code)}],
        )  # fmt: skip
    return district


@router.get("")
async def list_villages(
    principal: Reader,
    code: DistrictCode,
    conn: ConnDep,
    geo: GeoDep,
    fiscal_year: Annotated[int | None, Query(ge=2560, le=2700)] = None,
) -> list[Designation]:
    """The district's designated villages, of one fiscal year or of all."""
    _district(geo, principal, code)
    return await villages.list_designations(conn, code, fiscal_year)


@router.put("/{fiscal_year}/{subdistrict_code}")
async def designate_village(
    principal: Manager,
    code: DistrictCode,
    fiscal_year: FiscalYear,
    subdistrict_code: SubdistrictCode,
    body: VillageDesignate,
    conn: ConnDep,
    geo: GeoDep,
    scope: ScopeDep,
    js: JetStreamDep,
) -> Designation:
    """Designate the subdistrict's village for the fiscal year, replacing the one it had
    (one village per subdistrict per fiscal year); the same village again changes nothing."""
    district = _writable(geo, scope, principal, code, subdistrict_code)
    async with villages.district_lock(conn, code):
        designation = await villages.designate(conn, district, fiscal_year, subdistrict_code, body)
        await directory.republish_district(js, conn, geo, scope, district)
    return designation


@router.delete("/{fiscal_year}/{subdistrict_code}", status_code=204, response_class=Response)
async def undesignate_village(
    principal: Manager,
    code: DistrictCode,
    fiscal_year: FiscalYear,
    subdistrict_code: SubdistrictCode,
    conn: ConnDep,
    geo: GeoDep,
    scope: ScopeDep,
    js: JetStreamDep,
) -> None:
    """Undesignate the subdistrict's village of the fiscal year (404 if it has none)."""
    district = _writable(geo, scope, principal, code, subdistrict_code)
    async with villages.district_lock(conn, code):
        await villages.undesignate(conn, district, fiscal_year, subdistrict_code)
        await directory.republish_district(js, conn, geo, scope, district)
