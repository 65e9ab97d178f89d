"""Provinces, districts and subdistricts: reference data, cacheable with an ETag.

Every district of the geography is served, each saying whether it takes part in the programme
(`in_programme`, the registry's programme scope)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from warroom_registry.api.deps import GeoDep, ScopeDep
from warroom_registry.geography import District
from warroom_registry.programme import ProgrammeScope
from warroom_shared.http import Problem, cacheable
from warroom_shared.security.access import EVERYONE, Allow

router = APIRouter(prefix="/v1", tags=["geography"], dependencies=[Depends(Allow(*EVERYONE))])

ProvinceCode = Annotated[str, Path(pattern=r"^[0-9]{2}$", examples=["10"])]
DistrictCode = Annotated[str, Path(pattern=r"^[0-9]{4}$", examples=["1001"])]


def _district(district: District, scope: ProgrammeScope) -> dict[str, Any]:
    return {**asdict(district), "in_programme": scope.includes(district)}


@router.get("/provinces")
async def list_provinces(request: Request, geo: GeoDep) -> Response:
    """All 77 provinces (Bangkok included)."""
    return cacheable(request, [asdict(p) for p in geo.provinces.values()])


@router.get("/provinces/{code}")
async def get_province(
    request: Request, geo: GeoDep, scope: ScopeDep, code: ProvinceCode
) -> Response:
    """One province, with its number of districts and how many of them are in the programme."""
    province = geo.provinces.get(code)
    if province is None:
        raise Problem(404, "province_not_found", code=code)
    districts = geo.districts_of(code)
    return cacheable(
        request,
        {
            **asdict(province),
            "districts": len(districts),
            "districts_in_programme": sum(scope.includes(d) for d in districts),
        },
    )


@router.get("/districts")
async def list_districts(
    request: Request,
    geo: GeoDep,
    scope: ScopeDep,
    province: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    in_programme: Annotated[
        bool | None, Query(description="only the programme's districts (true) or the others")
    ] = None,
) -> Response:
    """Districts (amphoe and Bangkok's khet), all or of one province, each saying whether it
    takes part in the programme (the 878 amphoe, unless an operator included the khet)."""
    if province is not None and province not in geo.provinces:
        raise Problem(404, "province_not_found", code=province)
    districts = geo.districts.values() if province is None else geo.districts_of(province)
    listed = [_district(d, scope) for d in districts]
    if in_programme is not None:
        listed = [d for d in listed if d["in_programme"] is in_programme]
    return cacheable(request, listed)


@router.get("/districts/{code}")
async def get_district(
    request: Request, geo: GeoDep, scope: ScopeDep, code: DistrictCode
) -> Response:
    """One district, with its number of subdistricts and whether it is in the programme."""
    district = geo.districts.get(code)
    if district is None:
        raise Problem(404, "district_not_found", code=code)
    return cacheable(
        request, {**_district(district, scope), "subdistricts": len(geo.subdistricts_of(code))}
    )


@router.get("/subdistricts")
async def list_subdistricts(
    request: Request,
    geo: GeoDep,
    district: Annotated[str, Query(pattern=r"^[0-9]{4}$", examples=["1001"])],
) -> Response:
    """The subdistricts (tambon, or khwaeng in Bangkok) of one district."""
    if district not in geo.districts:
        raise Problem(404, "district_not_found", code=district)
    return cacheable(request, [asdict(s) for s in geo.subdistricts_of(district)])
