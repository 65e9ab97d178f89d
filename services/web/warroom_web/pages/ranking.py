"""The ranking page: provinces ranked by reports per district of the programme, or districts by
reports per subdistrict, never by raw volume, which would only say which areas are big. An area
with too few reports to rank fairly is listed apart with its reason; tied areas share a rank
(1, 2, 2, 4). The URL holds every choice (`?level=district&province=12&fy=2568&q=2`);
`?format=json` gives the same rows. Read from the aggregator with the user's own token, so an
officer of a province ranks its districts only, and a district officer has nothing to rank."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from warroom_shared.fiscal import current_period
from warroom_shared.security.access import PUBLIC
from warroom_web import geo
from warroom_web.pages.access import refused_page, to_sign_in
from warroom_web.pages.area import FIRST_YEAR, FiscalYear, Quarter
from warroom_web.render import lang_of, page
from warroom_web.session import MaybeUser, User
from warroom_web.upstream import Refused, Unavailable, Upstream

router = APIRouter(tags=["pages"], include_in_schema=False)
Anyone = Annotated[None, Depends(PUBLIC)]
Level = Literal["province", "district"]
ProvinceFilter = Annotated[str | None, Query(pattern=r"^([0-9]{2})?$")]  # "" from the form: all
MIN_REPORTS = 5  # fewer reports than this in the quarter: a rate too unsteady to rank on
PLACES = 2  # a rate is compared as shown: rounded to two decimal places
SIZE: dict[Level, str] = {"province": "districts", "district": "subdistricts"}


def rank(
    rows: list[dict[str, Any]], size: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows ranked by reports per `size` (a rate rounded to two places, compared exactly as
    shown), highest first, with competition ranks (equal rates share a rank, the next rank skips:
    1, 2, 2, 4) and ties in code order; and the rows not ranked, each with its `reason`: no
    `size` to divide by, or fewer than `MIN_REPORTS` reports."""
    ranked, too_few = [], []
    for row in rows:
        if not row[size]:
            too_few.append({**row, "reason": "nothing_in_scope"})
        elif row["reports"] < MIN_REPORTS:
            too_few.append({**row, "reason": "few_reports"})
        else:
            ranked.append({**row, "rate": round(Fraction(row["reports"], row[size]), PLACES)})
    ranked.sort(key=lambda r: (-r["rate"], r["code"]))
    for place, row in enumerate(ranked):
        ahead = ranked[place - 1] if place else None
        row["rank"] = ahead["rank"] if ahead and ahead["rate"] == row["rate"] else place + 1
    for row in ranked:
        row["rate"] = float(row["rate"])
    too_few.sort(key=lambda r: (-r["reports"], r["code"]))
    return ranked, too_few


def province_rows(
    places: list[dict[str, Any]], statuses: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each province with a district of the programme: its reports (the aggregator's breakdown),
    its districts in the programme, and the shares of them that reported, and on time."""
    listed = {row["key"]: row for row in places}
    found: dict[str, dict[str, Any]] = {}
    for status in statuses:
        code = status["province_code"]
        named = listed.get(code) or geo.places().get(code) or {"reports": 0}
        row = found.setdefault(code, {
            "code": code, "name_th": named.get("name_th") or code,
            "name_en": named.get("name_en") or code, "reports": named.get("reports", 0),
            "districts": 0, "reported": 0, "on_time": 0,
        })  # fmt: skip
        row["districts"] += 1
        row["reported"] += status["status"] != "not_yet"
        row["on_time"] += status["status"] == "on_time"
    for row in found.values():
        row["reported_share"] = round(row.pop("reported") / row["districts"], 4)
        row["on_time_share"] = round(row.pop("on_time") / row["districts"], 4)
    return list(found.values())


def district_rows(
    places: list[dict[str, Any]], statuses: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each district of the programme the user may see: its reports, subdistricts, status
    (on time, late, not yet) and province."""
    reports = {row["key"]: row["reports"] for row in places}
    rows = []
    for status in statuses:
        province = geo.places().get(status["province_code"], {})
        rows.append({
            "code": status["code"], "name_th": status["name_th"], "name_en": status["name_en"],
            "province_code": status["province_code"],
            "province_th": province.get("name_th", status["province_code"]),
            "province_en": province.get("name_en", status["province_code"]),
            "reports": reports.get(status["code"], 0), "subdistricts": status["subdistricts"],
            "status": status["status"],
        })  # fmt: skip
    return rows


@router.get("/ranking", response_class=HTMLResponse)
async def get_ranking(
    _: Anyone, request: Request, user: MaybeUser, level: Level | None = None,
    province: ProvinceFilter = None, fy: FiscalYear = None, q: Quarter = None,
    format: str | None = None,
) -> Response:  # fmt: skip
    """Provinces (the nation's default) or districts (an officer's) ranked fairly."""
    if user is None:
        return to_sign_in(request)
    now = current_period()
    fy, q = fy or now.year, q or now.quarter
    national = user.principal.national
    level = level or ("province" if national else "district")
    # a province's districts, or the nation's; an officer's own province unless the URL names one
    province = (
        None if level == "province" else province or (None if national else user.principal.province)
    )
    filters = {"level": level, "province": province, "fy": fy, "q": q}
    context: dict[str, Any] = {
        "filters": filters, "years": list(range(now.year + 1, FIRST_YEAR - 1, -1)),
        "provinces": _provinces(user, lang_of(request)), "minimum": MIN_REPORTS,
        "levels": {lv: "/ranking?" + _query({**filters, "level": lv, "province": None}, request)
                   for lv in SIZE} if national else {},  # an officer's districts only
    }  # fmt: skip
    try:
        places, completeness = await _read(request, user, level, province, fy, q)
    except Unavailable as down:
        if format == "json":
            return JSONResponse({"unavailable": down.service}, status_code=503)
        return page(request, "pages/ranking.html", user, status_code=503,
                    unavailable=down.service, **context)  # fmt: skip
    except Refused as refused:
        return refused_page(request, user, refused)
    build = province_rows if level == "province" else district_rows
    ranked, too_few = rank(build(places["rows"], completeness["statuses"]), SIZE[level])
    answer = {
        "level": level, "province": province, "fiscal_year": fy, "quarter": q,
        "measure": f"reports_per_{SIZE[level][:-1]}", "minimum_reports": MIN_REPORTS,
        "due_on": completeness["due_on"], "days_left": completeness["days_left"],
        "provisional": completeness["days_left"] >= 0, "ranked": ranked, "too_few": too_few,
    }  # fmt: skip
    if format == "json":
        return JSONResponse(answer)
    json_url = "/ranking?" + _query({**filters, "format": "json"}, request)
    return page(request, "pages/ranking.html", user, answer=answer, json_url=json_url, **context)


async def _read(
    request: Request, user: User, level: Level, province: str | None, fy: int, q: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The reports per province (or per district of a province, or of the nation) and the
    completeness of the same districts, at once; the aggregator refuses what the user may not
    read (a province officer the nation's provinces, a district officer any province)."""
    upstream: Upstream = request.app.state.upstream
    scope = {"scope": "province", "code": province} if province else {"scope": "national"}
    places, completeness = await asyncio.gather(
        upstream.get("aggregator", "/v1/totals/breakdown", user.token, by=level,
                     fiscal_year=fy, quarter=q, **scope),
        upstream.get("aggregator", "/v1/completeness", user.token, fiscal_year=fy, quarter=q,
                     province=province),
    )  # fmt: skip
    return places, completeness


def _provinces(user: User, lang: str) -> list[dict[str, str]]:
    """The provinces whose districts the user may rank, by name, for the form."""
    name = "name_en" if lang == "en" else "name_th"
    mine = [p for p in geo.provinces() if user.principal.covers_province(p["code"])]
    return sorted(({"code": p["code"], "name": p[name]} for p in mine), key=lambda p: p["name"])


def _query(filters: dict[str, Any], request: Request) -> str:
    kept = {k: v for k, v in filters.items() if v is not None}
    return urlencode({**kept, **({"lang": "en"} if lang_of(request) == "en" else {})})
