"""Provinces, districts and subdistricts: reference data, cacheable with an ETag."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from warroom_registry.api.deps import GeoDep
from warroom_shared.http import Problem, cacheable
from warroom_shared.security.access import EVERYONE, Allow

router = APIRouter(prefix="/v1", tags=["geography"], dependencies=[Depends(Allow(*EVERYONE))])

ProvinceCode = Annotated[str, Path(pattern=r"^[0-9]{2}$", examples=["10"])]
DistrictCode = Annotated[str, Path(pattern=r"^[0-9]{4}$", examples=["1001"])]


@router.get("/provinces")
async def list_provinces(request: Request, geo: GeoDep) -> Response:
    """All 77 provinces (Bangkok included)."""
    return cacheable(request, [asdict(p) for p in geo.provinces.values()])


@router.get("/provinces/{code}")
async def get_province(request: Request, geo: GeoDep, code: ProvinceCode) -> Response:
    """One province, with its number of districts."""
    province = geo.provinces.get(code)
    if province is None:
        raise Problem(404, "province_not_found", f"No province {code}.")
    return cacheable(request, {**asdict(province), "districts": len(geo.districts_of(code))})


@router.get("/districts")
async def list_districts(
    request: Request,
    geo: GeoDep,
    province: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
) -> Response:
    """Districts (amphoe and Bangkok's khet), all or of one province."""
    if province is None:
        return cacheable(request, [asdict(d) for d in geo.districts.values()])
    if province not in geo.provinces:
        raise Problem(404, "province_not_found", f"No province {province}.")
    return cacheable(request, [asdict(d) for d in geo.districts_of(province)])


@router.get("/districts/{code}")
async def get_district(request: Request, geo: GeoDep, code: DistrictCode) -> Response:
    """One district, with its number of subdistricts."""
    district = geo.districts.get(code)
    if district is None:
        raise Problem(404, "district_not_found", f"No district {code}.")
    return cacheable(request, {**asdict(district), "subdistricts": len(geo.subdistricts_of(code))})


@router.get("/subdistricts")
async def list_subdistricts(
    request: Request,
    geo: GeoDep,
    district: Annotated[str, Query(pattern=r"^[0-9]{4}$", examples=["1001"])],
) -> Response:
    """The subdistricts (tambon, or khwaeng in Bangkok) of one district."""
    if district not in geo.districts:
        raise Problem(404, "district_not_found", f"No district {district}.")
    return cacheable(request, [asdict(s) for s in geo.subdistricts_of(district)])
