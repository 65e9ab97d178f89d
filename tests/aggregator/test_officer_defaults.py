"""An officer who names no place gets its own area: totals, breakdowns, completeness and the live
stream of its district or province, from reports the aggregator really counted. A place outside
the area still answers 403; national roles keep the nation."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext

from tests.aggregator.events import Reports, figures, publish
from tests.aggregator.helpers import eventually, wait_drained, wait_for_totals
from tests.aggregator.live import sse_events
from tests.utils.apps import live_server
from tests.utils.auth import bearer
from warroom_aggregator.app import create_app
from warroom_aggregator.broadcast import Broadcaster
from warroom_aggregator.settings import AggregatorSettings
from warroom_shared.security.principal import AccessRole

pytestmark = pytest.mark.usefixtures("directory_loaded")

DUE = dt.date(2025, 4, 15)  # FY 2568 Q2's default deadline
Q2 = {"fiscal_year": 2568, "quarter": 2}
DISTRICT = bearer(AccessRole.DISTRICT_OFFICER, "1201")  # Mueang Nonthaburi
PROVINCE = bearer(AccessRole.PROVINCE_OFFICER, "12")  # Nonthaburi
NATIONAL = (AccessRole.ADMIN, AccessRole.NATIONAL_VIEWER, AccessRole.MONITOR)
# FY 2568 Q2 reports per district: Mueang Nonthaburi 2 (on time), Bang Kruai 3 (late), Mueang
# Chiang Mai 4 (on time)
COUNTS = {"1201": (2, DUE), "1202": (3, DUE + dt.timedelta(days=1)), "5001": (4, DUE)}


@pytest.fixture
async def counted(aggregator: httpx.AsyncClient, pool: asyncpg.Pool, js: JetStreamContext) -> None:
    """`COUNTS` published as the relay does and counted by the aggregator."""
    reports = Reports()
    for district, (count, received_on) in COUNTS.items():
        for _ in range(count):
            reports.submit(figures(district=district, received_on=received_on))
    await publish(js, reports.envelopes)
    await wait_for_totals(pool, reports.truth())
    await wait_drained(js)


@pytest.mark.usefixtures("counted")
async def test_get_totals_without_scope_gives_an_officers_own_area(
    aggregator: httpx.AsyncClient,
) -> None:
    district = await aggregator.get("/v1/totals", params=Q2, headers=DISTRICT)
    province = await aggregator.get("/v1/totals", params=Q2, headers=PROVINCE)
    national = [await aggregator.get("/v1/totals", params=Q2, headers=bearer(r)) for r in NATIONAL]

    assert district.status_code == province.status_code == 200
    assert {k: district.json()[k] for k in ("scope", "code", "name_en", "reports")} == {
        "scope": "district", "code": "1201", "name_en": "Mueang Nonthaburi", "reports": 2,
    }  # fmt: skip
    assert {k: province.json()[k] for k in ("scope", "code", "name_en", "reports")} == {
        "scope": "province", "code": "12", "name_en": "Nonthaburi", "reports": 5,
    }  # fmt: skip
    assert district.json()["households"] == 2 * 3  # figures(): 3 households a report
    assert [(r.json()["scope"], r.json()["code"], r.json()["reports"]) for r in national] == [
        ("national", "TH", 9)
    ] * 3


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        (DISTRICT, {"scope": "national"}),
        (DISTRICT, {"scope": "province", "code": "12"}),  # its province, not only its district
        (DISTRICT, {"scope": "district", "code": "1202"}),
        (PROVINCE, {"scope": "national"}),
        (PROVINCE, {"scope": "province", "code": "50"}),
        (PROVINCE, {"scope": "district", "code": "5001"}),
    ],
)
async def test_get_totals_of_another_area_gives_403(
    aggregator: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await aggregator.get("/v1/totals", params=params, headers=headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "outside_area"


async def test_get_totals_with_a_code_and_no_scope_gives_422(
    aggregator: httpx.AsyncClient,
) -> None:
    response = await aggregator.get("/v1/totals", params={"code": "1201"}, headers=DISTRICT)

    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["query.code"]


def _rows(response: httpx.Response) -> dict[str, int]:
    return {row["key"]: row["reports"] for row in response.json()["rows"]}


@pytest.mark.usefixtures("counted")
async def test_get_breakdown_without_scope_gives_an_officers_own_area(
    aggregator: httpx.AsyncClient,
) -> None:
    districts = await aggregator.get(
        "/v1/totals/breakdown", params={"by": "district"}, headers=PROVINCE
    )
    quarters = await aggregator.get(
        "/v1/totals/breakdown", params={"by": "quarter"}, headers=DISTRICT
    )
    provinces = await aggregator.get("/v1/totals/breakdown", params={"by": "province"})

    assert (districts.json()["scope"], districts.json()["code"]) == ("province", "12")
    assert _rows(districts) == {
        "1201": 2, "1202": 3, "1203": 0, "1204": 0, "1205": 0, "1206": 0,
    }  # fmt: skip
    assert (quarters.json()["scope"], quarters.json()["code"]) == ("district", "1201")
    assert _rows(quarters) == {"2": 2}
    assert (provinces.json()["scope"], provinces.json()["code"]) == ("national", "TH")
    assert (_rows(provinces)["12"], _rows(provinces)["50"], sum(_rows(provinces).values())) == (
        5, 4, 9,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "params", "place"),
    [
        # by=province breaks down the nation, by=district a province: wider than the area
        (DISTRICT, {"by": "province"}, "The nation"),
        (PROVINCE, {"by": "province"}, "The nation"),
        (DISTRICT, {"by": "district"}, "The province 12"),
        (PROVINCE, {"by": "district", "scope": "province", "code": "50"}, "The province 50"),
        (DISTRICT, {"by": "quarter", "scope": "district", "code": "1202"}, "The district 1202"),
    ],
)
async def test_get_breakdown_wider_than_an_officers_area_gives_403(
    aggregator: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str], place: str
) -> None:
    english = {**headers, "Accept-Language": "en"}
    response = await aggregator.get("/v1/totals/breakdown", params=params, headers=english)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "outside_area"
    assert response.json()["error"]["message"].startswith(place)


@pytest.mark.usefixtures("counted")
async def test_get_completeness_without_place_gives_an_officers_own_area(
    aggregator: httpx.AsyncClient,
) -> None:
    district = await aggregator.get("/v1/completeness", params=Q2, headers=DISTRICT)
    province = await aggregator.get("/v1/completeness", params=Q2, headers=PROVINCE)
    national = await aggregator.get("/v1/completeness", params=Q2)
    named = await aggregator.get("/v1/completeness", params={**Q2, "district": "1202"})

    one = district.json()
    assert (one["province"], one["district"], one["districts"], one["reported"]) == (
        None, "1201", 1, 1,
    )  # fmt: skip
    assert [(d["code"], d["status"]) for d in one["statuses"]] == [("1201", "on_time")]
    assert (one["reporting_rate"], one["missing"]) == (1.0, [])
    body = province.json()
    assert (body["province"], body["district"], body["districts"]) == ("12", None, 6)
    assert (body["on_time"], body["late"], body["not_reported"]) == (1, 1, 4)
    assert {d["code"]: d["status"] for d in body["statuses"]}["1202"] == "late"
    assert (national.json()["province"], national.json()["districts"]) == (None, 878)
    assert (national.json()["on_time"], national.json()["late"]) == (2, 1)
    assert [(d["code"], d["status"]) for d in named.json()["statuses"]] == [("1202", "late")]


@pytest.mark.parametrize(
    ("path", "headers", "params"),
    [
        ("/v1/completeness", DISTRICT, {"province": "12"}),  # its province, not only its district
        ("/v1/completeness", DISTRICT, {"district": "1202"}),
        ("/v1/completeness", PROVINCE, {"province": "50"}),
        ("/v1/completeness", PROVINCE, {"district": "5001"}),
        ("/v1/completeness/villages", DISTRICT, {"province": "12"}),
        ("/v1/completeness/villages", PROVINCE, {"district": "5001"}),
    ],
)
async def test_get_completeness_of_another_area_gives_403(
    aggregator: httpx.AsyncClient, path: str, headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await aggregator.get(path, params={**Q2, **params}, headers=headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "outside_area"


async def test_get_completeness_of_a_province_and_a_district_at_once_gives_422(
    aggregator: httpx.AsyncClient,
) -> None:
    both = await aggregator.get(
        "/v1/completeness", params={**Q2, "province": "12", "district": "1201"}
    )
    unknown = await aggregator.get("/v1/completeness", params={**Q2, "district": "1299"})

    assert both.status_code == 422
    assert [f["field"] for f in both.json()["error"]["fields"]] == ["query.district"]
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "district_not_found")


async def test_get_village_completeness_without_place_gives_an_officers_own_area(
    aggregator: httpx.AsyncClient,
) -> None:
    district = await aggregator.get("/v1/completeness/villages", params=Q2, headers=DISTRICT)
    province = await aggregator.get("/v1/completeness/villages", params=Q2, headers=PROVINCE)

    assert (district.json()["province"], district.json()["district"]) == (None, "1201")
    assert (province.json()["province"], province.json()["district"]) == ("12", None)


def _places(broadcaster: Broadcaster) -> set[tuple[str, str]]:
    return {(b["scope"], b["code"]) for b in map(json.loads, broadcaster.since(0)[1])}


@pytest.mark.parametrize(
    ("headers", "want"),
    [
        (DISTRICT, {("district", "1201"): 1}),
        (PROVINCE, {("district", "1201"): 1, ("district", "1202"): 1, ("province", "12"): 2}),
    ],
)
async def test_stream_without_scope_sends_an_officer_only_its_area(
    settings: AggregatorSettings,
    js: JetStreamContext,
    headers: dict[str, str],
    want: dict[tuple[str, str], int],
) -> None:
    app = create_app(settings)
    latest: dict[tuple[str, str], dict[str, Any]] = {}

    def done() -> bool:
        return all(latest.get(place, {}).get("reports") == n for place, n in want.items())

    async with (
        live_server(app) as url,
        httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as client,
        client.stream("GET", "/v1/stream") as response,
    ):
        elsewhere, ours = Reports(), Reports()
        elsewhere.submit(figures(district="5001"))
        elsewhere.submit(figures(district="1202"))
        await publish(js, elsewhere.envelopes)
        # everything elsewhere is in the stream's source before our district's report
        broadcaster = app.state.aggregator.broadcaster
        await eventually(
            lambda: asyncio.sleep(0, _places(broadcaster)),
            lambda places: {("national", "TH"), ("district", "5001"), ("province", "12")} <= places,
        )
        ours.submit(figures(district="1201"))
        await publish(js, ours.envelopes)
        async with asyncio.timeout(15):
            async for event, body in sse_events(response):
                if event == "totals":
                    latest[(body["scope"], body["code"])] = body
                if done():
                    break

    assert set(latest) == set(want)
