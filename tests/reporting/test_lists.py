"""Report lists and exports: newest activity first, a keyset cursor across pages, the filters
people need (status, subdistrict, dates, dimension, stage), each checked."""

import csv
import io
from typing import Any

import httpx
import pytest

from tests.utils.auth import bearer
from tests.utils.factories import report
from warroom_shared.security.principal import AccessRole

RETRACTION = {"reason": "รายงานซ้ำ", "retracted_by": {"name": "ก", "position": "ข"}}


async def _post(reporting: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    body = report(**changes)
    assert (await reporting.post("/v1/reports", json=body)).status_code == 201
    return body


async def _pages(
    reporting: httpx.AsyncClient, params: dict[str, Any], limit: int = 2
) -> list[dict[str, Any]]:
    """Every report of a list, page after page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = await reporting.get("/v1/reports", params=query)
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return items


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["report_id"] for i in items]


def _csv_ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [r["report_id"] for r in csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff")))]


async def test_list_reports_newest_activity_first_across_pages(
    reporting: httpx.AsyncClient,
) -> None:
    # several on one day: the report id orders them, and no page repeats or skips one
    days = ["2025-01-05", "2025-03-01", "2024-11-20", "2025-03-01", "2025-03-01", "2025-02-10"]
    bodies = [await _post(reporting, activity_date=day) for day in days]
    newest = sorted(bodies, key=lambda b: (b["activity_date"], b["report_id"]), reverse=True)

    listed = await _pages(reporting, {})
    oldest = await _pages(reporting, {"sort": "activity_date"}, limit=4)
    sheet = await reporting.get("/v1/reports.csv")

    assert _ids(listed) == _ids(newest)
    assert [i["activity_date"] for i in listed][:3] == ["2025-03-01"] * 3
    assert _ids(oldest) == _ids(newest)[::-1]
    assert _csv_ids(sheet) == _ids(newest)


async def test_list_reports_hides_retracted_reports_unless_asked(
    reporting: httpx.AsyncClient,
) -> None:
    kept, gone = await _post(reporting), await _post(reporting, activity_date="2025-03-01")
    url = f"/v1/reports/{gone['report_id']}"
    assert (await reporting.request("DELETE", url, json=RETRACTION)).status_code == 200

    lists = {
        status: _ids(await _pages(reporting, {"status": status} if status else {}))
        for status in (None, "active", "retracted", "all")
    }
    sheets = {
        status: _csv_ids(
            await reporting.get("/v1/reports.csv", params={"status": status} if status else {})
        )
        for status in (None, "retracted", "all")
    }

    assert lists[None] == lists["active"] == [kept["report_id"]]
    assert lists["retracted"] == [gone["report_id"]]
    assert lists["all"] == [gone["report_id"], kept["report_id"]]
    assert sheets == {status: lists[status] for status in sheets}


async def test_list_reports_filters_by_subdistrict_dates_dimension_and_stage(
    reporting: httpx.AsyncClient,
) -> None:
    plain = await _post(reporting)  # 120101, 2025-02-14, water and income, talk and act
    elsewhere = await _post(reporting, subdistrict_code="120102", activity_date="2025-02-15")
    early = await _post(reporting, activity_date="2025-01-31", dimensions=["housing"])
    late = await _post(reporting, activity_date="2025-03-01", stages=["benefit"])
    other_district = await _post(reporting, district_code="1202", subdistrict_code="120201")

    cases = {
        "subdistrict=120102": [elsewhere],
        "subdistrict=120201": [other_district],
        "from=2025-02-14&to=2025-02-15": [elsewhere, plain, other_district],  # both inclusive
        "from=2025-02-15": [late, elsewhere],
        "to=2025-01-31": [early],
        "from=2025-03-01&to=2025-03-01": [late],
        "dimension=housing": [early],
        "dimension=income": [late, elsewhere, plain, other_district],
        "stage=benefit": [late],
        "stage=talk&subdistrict=120101&district=1201": [plain, early],
        "dimension=water&stage=act&from=2025-02-15": [elsewhere],
        "fiscal_year=2568&quarter=2&to=2025-02-14": [plain, other_district, early],
        "fiscal_year=2568&quarter=3": [],
    }
    got = {}
    for query in cases:
        got[query] = (
            _ids((await reporting.get(f"/v1/reports?{query}")).json()["items"]),
            _csv_ids(await reporting.get(f"/v1/reports.csv?{query}")),
        )

    # the same report id order as the list gives, whichever day ties
    def expected(bodies: list[dict[str, Any]]) -> list[str]:
        ordered = sorted(bodies, key=lambda b: (b["activity_date"], b["report_id"]), reverse=True)
        return _ids(ordered)

    assert got == {query: (expected(b), expected(b)) for query, b in cases.items()}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2025-03-02&to=2025-03-01", "query.from"),
        ("status=deleted", "query.status"),
        ("dimension=happiness", "query.dimension"),
        ("stage=dream", "query.stage"),
        ("sort=received", "query.sort"),
        ("subdistrict=1201", "query.subdistrict"),
        ("subdistrict=129999", "query.subdistrict"),
        ("subdistrict=120201&district=1201", "query.subdistrict"),
        ("district=9999", "query.district"),
        ("district=1201&province=50", "query.district"),
        ("province=99", "query.province"),
        ("from=14/02/2025", "query.from"),
        ("to=2025-02-30", "query.to"),
        ("cursor=bm90IGEgY3Vyc29y", "query.cursor"),
    ],
)
async def test_list_reports_refuses_a_bad_filter_naming_it(
    reporting: httpx.AsyncClient, query: str, field: str
) -> None:
    exports = [] if query.startswith("cursor") else ["/v1/reports.csv"]  # an export has no pages
    for path in ["/v1/reports", *exports]:
        answer = await reporting.get(f"{path}?{query}")
        assert answer.status_code == 422, (path, answer.text)
        assert [f["field"] for f in answer.json()["error"]["fields"]] == [field], path


async def test_list_reports_refuses_a_cursor_of_another_filter_or_order(
    reporting: httpx.AsyncClient,
) -> None:
    for day in ("2025-01-05", "2025-02-05", "2025-03-05"):
        await _post(reporting, activity_date=day)
    first = await reporting.get("/v1/reports", params={"limit": 1, "stage": "talk"})
    cursor = first.json()["next_cursor"]

    same = await reporting.get(
        "/v1/reports", params={"limit": 1, "stage": "talk", "cursor": cursor}
    )
    other_filter = await reporting.get("/v1/reports", params={"limit": 1, "cursor": cursor})
    other_order = await reporting.get(
        "/v1/reports", params={"stage": "talk", "sort": "activity_date", "cursor": cursor}
    )

    assert [i["activity_date"] for i in same.json()["items"]] == ["2025-02-05"]
    for answer in (other_filter, other_order):
        assert answer.status_code == 422
        assert answer.json()["error"]["fields"][0]["field"] == "query.cursor"


async def test_list_reports_holds_an_officer_to_its_area_by_subdistrict(
    reporting: httpx.AsyncClient,
) -> None:
    own = await _post(reporting, subdistrict_code="120102")
    await _post(reporting, district_code="1202", subdistrict_code="120201")
    district_officer = bearer(AccessRole.DISTRICT_OFFICER, "1201")
    province_officer = bearer(AccessRole.PROVINCE_OFFICER, "12")

    outside = {
        path: await reporting.get(path, params={"subdistrict": "120201"}, headers=district_officer)
        for path in ("/v1/reports", "/v1/reports.csv")
    }
    inside = await reporting.get(
        "/v1/reports", params={"subdistrict": "120102"}, headers=district_officer
    )
    far = await reporting.get(
        "/v1/reports", params={"subdistrict": "500101"}, headers=province_officer
    )
    near = await reporting.get(
        "/v1/reports", params={"subdistrict": "120201"}, headers=province_officer
    )

    for answer in (*outside.values(), far):
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "outside_area"
    assert _ids(inside.json()["items"]) == [own["report_id"]]
    assert [i["subdistrict_code"] for i in near.json()["items"]] == ["120201"]
