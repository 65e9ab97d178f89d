"""Which districts have reported in a quarter, and which have not yet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from warroom_aggregator import queries
from warroom_aggregator.api.deps import ConnDep, DirectoryDep, FiscalYear, Quarter
from warroom_aggregator.models import Completeness, DistrictRef
from warroom_shared.http import Problem
from warroom_shared.security.access import (
    ADMIN,
    MONITOR,
    NATIONAL_VIEWER,
    PROVINCE_OFFICER,
    Allow,
    outside_area,
)
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["completeness"])

# A district officer's own completeness is a yes or no: it reads its totals instead.
ProvinceViewer = Annotated[
    Principal, Depends(Allow(ADMIN, NATIONAL_VIEWER, MONITOR, PROVINCE_OFFICER))
]


@router.get("/completeness")
async def get_completeness(
    principal: ProvinceViewer,
    conn: ConnDep,
    directory: DirectoryDep,
    fiscal_year: FiscalYear,
    quarter: Quarter,
    province: Annotated[str | None, Query(pattern=r"^[0-9]{2}$", examples=["10"])] = None,
) -> Completeness:
    """Districts with at least one counted report in the period, and the list of those without
    (a province officer's own province when it names none)."""
    if not principal.national:
        province = province or principal.province
        if province != principal.province:
            raise outside_area(f"The province {province}")
    districts = directory.in_province(province) if province else list(directory.districts.values())
    if province is not None and not districts:
        raise Problem(404, "province_not_found", f"No province {province}.")
    reported = await queries.reported_districts(conn, fiscal_year, quarter)
    missing = sorted((d for d in districts if d.code not in reported), key=lambda d: d.code)
    done = len(districts) - len(missing)
    return Completeness(
        fiscal_year=fiscal_year,
        quarter=quarter,
        province=province,
        districts=len(districts),
        reported=done,
        not_reported=len(missing),
        reported_share=round(done / len(districts), 4) if districts else 0.0,
        missing=[DistrictRef.model_validate(d, from_attributes=True) for d in missing],
    )
