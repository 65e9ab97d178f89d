"""The nation, province and district pages: one view, three scopes. Each page's URL holds its
filters (`?fy=2570&q=1&lang=en`); `?format=json` gives the same figures as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from warroom_shared.domain import SECTOR_LABELS, Sector
from warroom_shared.fiscal import current_period, today_bangkok
from warroom_shared.security.access import PUBLIC
from warroom_web import geo
from warroom_web.devauth import landing
from warroom_web.i18n import Lang, translator
from warroom_web.pages.access import refused_page, to_sign_in
from warroom_web.pages.data import Area, Scope, map_rows, read_area
from warroom_web.render import lang_of, page
from warroom_web.session import MaybeUser, User
from warroom_web.settings import WebSettings
from warroom_web.upstream import Refused, Upstream

router = APIRouter(tags=["pages"], include_in_schema=False)
Anyone = Annotated[None, Depends(PUBLIC)]
FiscalYear = Annotated[int | None, Query(ge=2560, le=2700, description="Buddhist Era")]
Quarter = Annotated[int | None, Query(ge=1, le=4)]
ProvinceCode = Annotated[str, Path(pattern=r"^[0-9]{2}$")]
DistrictCode = Annotated[str, Path(pattern=r"^[0-9]{4}$")]
FIRST_YEAR = 2560


@router.get("/", response_class=HTMLResponse)
async def get_nation(
    _: Anyone, request: Request, user: MaybeUser, fy: FiscalYear = None, q: Quarter = None,
    format: str | None = None,
) -> Response:  # fmt: skip
    """The nation: the quarter's headline count, live, and everything behind it."""
    if user is not None and not user.principal.national:  # an officer: their own area
        lang_query = "?lang=en" if lang_of(request) == "en" else ""
        return RedirectResponse(landing(user.principal, lang_query), status_code=303)
    return await _area(request, user, "national", None, fy, q, format)


@router.get("/province/{code}", response_class=HTMLResponse)
async def get_province(
    _: Anyone, request: Request, user: MaybeUser, code: ProvinceCode,
    fy: FiscalYear = None, q: Quarter = None, format: str | None = None,
) -> Response:  # fmt: skip
    """A province, with its districts on the map."""
    return await _area(request, user, "province", code, fy, q, format)


@router.get("/district/{code}", response_class=HTMLResponse)
async def get_district(
    _: Anyone, request: Request, user: MaybeUser, code: DistrictCode,
    fy: FiscalYear = None, q: Quarter = None, format: str | None = None,
) -> Response:  # fmt: skip
    """A district."""
    return await _area(request, user, "district", code, fy, q, format)


async def _area(
    request: Request, user: User | None, scope: Scope, code: str | None,
    fy: int | None, q: int | None, format: str | None,
) -> Response:  # fmt: skip
    settings: WebSettings = request.app.state.settings
    public = scope == "national" and settings.public_national_totals
    if user is None and not public:
        return to_sign_in(request)
    now = current_period()
    fy, q = fy or now.year, q or now.quarter
    upstream: Upstream = request.app.state.upstream
    try:
        area = await read_area(upstream, user.token if user else None, scope, code, fy, q)
    except Refused as refused:
        return refused_page(request, user, refused)
    if format == "json":
        return JSONResponse(area.json())
    lang = lang_of(request)
    years = list(range(now.year + 1, FIRST_YEAR - 1, -1))
    return page(request, "pages/area.html", user, area=area, view=_view(area),
                charts=_charts(area, lang), years=years)  # fmt: skip


def _view(area: Area) -> dict[str, Any]:
    """What the template draws besides the sections: the map's rows, the place's name, the
    live stream's address and the breadcrumbs."""
    sections = area.sections
    places, completeness = sections.get("places"), sections.get("completeness")
    rows = None
    if places is not None and places.data is not None:
        rows = map_rows(area, places.data, completeness.data if completeness else None)
    totals = sections["totals"].data or {}
    code = area.code or "TH"
    live = f"/live?scope={area.scope}&code={code}&fy={area.fiscal_year}&q={area.quarter}"
    place = geo.places().get(area.code or "", {})
    province = geo.places().get((area.code or "")[:2], {})
    return {"map_rows": rows, "name_th": totals.get("name_th") or place.get("name_th"),
            "name_en": totals.get("name_en") or place.get("name_en"), "live": live,
            "province": province.get("code"), "province_th": province.get("name_th"),
            "province_en": province.get("name_en")}  # fmt: skip


CHARTS = (  # section, id, title, kind, label header, what is counted
    ("totals", "sectors", "sectors", "bar", "sector", "participants"),
    ("stage", "funnel", "funnel", "stages", "stage", "reports"),
    ("dimension", "dimensions", "dimensions", "bar", "dimension", "reports"),
    ("programme", "programmes", "programmes", "bar", "programme", "reports"),
    ("month", "trend", "trend", "line", "month", "reports"),
)


def _charts(area: Area, lang: Lang) -> list[dict[str, Any]]:
    """Each chart's rows as `{label, value}` in the page's language, or the service that did not
    answer."""
    t = translator(lang)
    charts = []
    for section_name, chart_id, title, kind, header, counted in CHARTS:
        section = area.sections.get(section_name)
        if section is None:
            continue
        rows = []
        if section.data is not None and section_name == "totals":
            rows = [{"label": _sector_name(sector, lang), "value": count}
                    for sector, count in section.data["participants"].items()]  # fmt: skip
        elif section.data is not None:
            data_rows = section.data["rows"]
            if section_name == "month":
                data_rows = months_so_far(data_rows, today_bangkok())
            rows = [{"label": (row["name_en"] if lang == "en" else row["name_th"]) or row["key"],
                     "value": row["reports"]} for row in data_rows]  # fmt: skip
        charts.append({"id": chart_id, "title": t(title), "kind": kind, "rows": rows,
                       "unavailable": section.unavailable, "label_header": t(header),
                       "value_label": t(counted)})  # fmt: skip
    return charts


def months_so_far(rows: list[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    """A trend's months up to this one: a month still to come has no figure yet, and a line
    falling to 0 there would read as a collapse. Keys are Buddhist-era `2569-11`; `unknown` (reports
    counted before events carried their month) only when it holds any."""
    now = f"{today.year + 543}-{today.month:02d}"
    return [row for row in rows
            if (row["key"] <= now if row["key"] != "unknown" else row["reports"] > 0)]  # fmt: skip


def _sector_name(sector: str, lang: Lang) -> str:
    label = SECTOR_LABELS[Sector(sector)]
    return label.en if lang == "en" else label.th
