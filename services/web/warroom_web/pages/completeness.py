"""The completeness page: which of the programme's districts have reported this quarter, on time
or late, and which not yet, sortable and filterable by plain links and a form (the URL holds
every filter), and the same rows as CSV. Read from the aggregator with the user's own token, so an
officer sees only their area."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from warroom_shared.fiscal import current_period
from warroom_shared.security.access import PUBLIC
from warroom_web import geo
from warroom_web.i18n import Lang, translator
from warroom_web.pages.access import refused_page, to_sign_in
from warroom_web.pages.area import FIRST_YEAR, FiscalYear, Quarter
from warroom_web.render import lang_of, page
from warroom_web.session import MaybeUser, User
from warroom_web.upstream import Refused, Unavailable, Upstream

router = APIRouter(tags=["pages"], include_in_schema=False)
Anyone = Annotated[None, Depends(PUBLIC)]
Status = Literal["not_yet", "late", "on_time"]
Sort = Literal["district", "-district", "province", "-province", "status", "-status"]
# The filter form sends "" for "all": the same as no filter.
ProvinceFilter = Annotated[str | None, Query(pattern=r"^([0-9]{2})?$")]
StatusFilter = Status | Literal[""] | None
STATUSES: tuple[Status, ...] = ("not_yet", "late", "on_time")  # the order "status" sorts in
COLUMNS = ("district", "province", "status")


@router.get("/completeness", response_class=HTMLResponse)
async def get_completeness(
    _: Anyone, request: Request, user: MaybeUser, fy: FiscalYear = None, q: Quarter = None,
    province: ProvinceFilter = None, status: StatusFilter = None, sort: Sort = "status",
) -> Response:  # fmt: skip
    """The table: the districts not yet reported first, unless the URL sorts otherwise."""
    if user is None:
        return to_sign_in(request)
    now = current_period()
    fy, q = fy or now.year, q or now.quarter
    province, status = province or None, status or None
    lang = lang_of(request)
    filters = {"fy": fy, "q": q, "province": province, "status": status, "sort": sort}
    context: dict[str, Any] = {
        "filters": filters, "years": list(range(now.year + 1, FIRST_YEAR - 1, -1)),
        "statuses": STATUSES, "columns": _columns(filters, lang),
        "csv_url": "/completeness.csv?" + _query(filters, lang),
    }  # fmt: skip
    try:
        answer = await _read(request, user, fy, q)
    except Unavailable as down:
        return page(request, "pages/completeness.html", user, status_code=503,
                    unavailable=down.service, **context)  # fmt: skip
    except Refused as refused:
        return refused_page(request, user, refused)
    provinces = _provinces(answer["statuses"], lang)
    rows = _rows(answer["statuses"], province, status, sort, lang)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    return page(request, "pages/completeness.html", user, answer=answer, rows=rows,
                counts=counts, provinces=provinces, **context)  # fmt: skip


@router.get("/completeness.csv")
async def get_completeness_csv(
    _: Anyone, request: Request, user: MaybeUser, fy: FiscalYear = None, q: Quarter = None,
    province: ProvinceFilter = None, status: StatusFilter = None, sort: Sort = "status",
) -> Response:  # fmt: skip
    """The page's rows as CSV, UTF-8 with a BOM (so a spreadsheet shows the Thai names)."""
    if user is None:
        return to_sign_in(request)
    now = current_period()
    fy, q = fy or now.year, q or now.quarter
    province, status = province or None, status or None
    lang = lang_of(request)
    try:
        answer = await _read(request, user, fy, q)
    except Unavailable as down:
        t = translator(lang)
        message = t("unavailable", service=t("service_" + down.service))
        return PlainTextResponse(message, status_code=503, headers={"Retry-After": "60"})
    except Refused as refused:
        return refused_page(request, user, refused)
    t = translator(lang)
    rows = _rows(answer["statuses"], province, status, sort, lang)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(["fiscal_year", "quarter", "district_code", "district_name_th",
                  "district_name_en", "province_code", "province_name_th", "province_name_en",
                  "status", t("status"), "due_on", "days_left"])  # fmt: skip
    for row in rows:
        out.writerow([fy, q, row["code"], row["name_th"], row["name_en"], row["province_code"],
                      row["province_th"], row["province_en"], row["status"], t(row["status"]),
                      answer["due_on"], answer["days_left"]])  # fmt: skip
    name = f"completeness-{fy}-q{q}.csv"
    return Response(buffer.getvalue().encode(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


async def _read(request: Request, user: User, fy: int, q: int) -> dict[str, Any]:
    """The aggregator's completeness of everything the user may see (the nation, or an officer's
    own province or district: the aggregator decides)."""
    upstream: Upstream = request.app.state.upstream
    answer: dict[str, Any] = await upstream.get(
        "aggregator", "/v1/completeness", user.token, fiscal_year=fy, quarter=q
    )
    return answer


def _rows(
    statuses: list[dict[str, Any]], province: str | None, status: Status | None, sort: Sort,
    lang: Lang,
) -> list[dict[str, Any]]:  # fmt: skip
    """The districts that pass the filters, sorted; each with its province's names."""
    places = geo.places()
    rows = []
    for row in statuses:
        if (province and row["province_code"] != province) or (status and row["status"] != status):
            continue
        of = places.get(row["province_code"], {})
        rows.append({**row, "province_th": of.get("name_th", row["province_code"]),
                     "province_en": of.get("name_en", row["province_code"])})  # fmt: skip
    name = "name_en" if lang == "en" else "name_th"
    column, descending = sort.lstrip("-"), sort.startswith("-")
    by_district = sorted(rows, key=lambda r: (r[name] or r["code"], r["code"]))
    if column == "province":
        key = "province_en" if lang == "en" else "province_th"
        return sorted(by_district, key=lambda r: r[key], reverse=descending)
    if column == "status":
        return sorted(by_district, key=lambda r: STATUSES.index(r["status"]), reverse=descending)
    return by_district[::-1] if descending else by_district


def _provinces(statuses: list[dict[str, Any]], lang: Lang) -> list[dict[str, str]]:
    """The provinces the user's rows are in, for the filter, by name."""
    places, name = geo.places(), "name_en" if lang == "en" else "name_th"
    codes = sorted({row["province_code"] for row in statuses})
    found = [{"code": c, "name": places.get(c, {}).get(name, c)} for c in codes]
    return sorted(found, key=lambda p: p["name"])


def _columns(filters: dict[str, Any], lang: Lang) -> list[dict[str, str]]:
    """Each sortable column's header link (ascending, or descending once sorted ascending by it)
    and its aria-sort."""
    sort = str(filters["sort"])
    columns = []
    for column in COLUMNS:
        current = sort.lstrip("-") == column
        descending = sort.startswith("-")
        aria = ("descending" if descending else "ascending") if current else "none"
        target = f"-{column}" if current and not descending else column
        url = "/completeness?" + _query({**filters, "sort": target}, lang)
        columns.append({"name": column, "aria_sort": aria, "url": url})
    return columns


def _query(filters: dict[str, Any], lang: Lang) -> str:
    kept = {k: v for k, v in filters.items() if v is not None}
    return urlencode({**kept, **({"lang": "en"} if lang == "en" else {})})
