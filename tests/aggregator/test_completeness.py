import datetime as dt

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext

from tests.aggregator.events import Reports, figures, publish
from tests.aggregator.helpers import eventually, wait_drained, wait_for_totals
from tests.utils.auth import bearer
from warroom_shared.domain import Programme
from warroom_shared.events import DesignatedVillage, DirectoryDistrict
from warroom_shared.fiscal import today_bangkok
from warroom_shared.messaging import DISTRICTS_BUCKET
from warroom_shared.security.principal import AccessRole

pytestmark = pytest.mark.usefixtures("directory_loaded")

DUE = dt.date(2025, 4, 15)  # FY 2568 Q2 ends 31 March: the default deadline is 15 days later
ON_TIME, LATE = DUE, DUE + dt.timedelta(days=1)
Q2 = {"fiscal_year": 2568, "quarter": 2}


@pytest.fixture
async def reported(aggregator: httpx.AsyncClient, pool: asyncpg.Pool, js: JetStreamContext) -> None:
    """FY 2568 Q2 in Chiang Mai (50): 5001 on time, 5002 late, 5003 late then on time, 5004's
    on-time report retracted (late remains), 5005 an old event (no day received), 5006's only
    report retracted; 5007 in Q3; 1001, a Bangkok khet outside the programme, reported."""
    reports = Reports()
    for district, day in [("5001", ON_TIME), ("5002", LATE), ("5003", LATE), ("5003", ON_TIME),
                          ("5004", LATE), ("5005", None), ("1001", ON_TIME)]:  # fmt: skip
        reports.submit(figures(district=district, received_on=day))
    reports.retract(reports.submit(figures(district="5004", received_on=ON_TIME)))
    reports.retract(reports.submit(figures(district="5006", received_on=ON_TIME)))
    reports.submit(figures(district="5007", quarter=3, received_on=ON_TIME))
    await publish(js, reports.envelopes)
    await wait_for_totals(pool, reports.truth())
    await wait_drained(js)


@pytest.mark.usefixtures("reported")
async def test_get_completeness_of_province_gives_each_district_on_time_late_or_not_yet(
    aggregator: httpx.AsyncClient,
) -> None:
    response = await aggregator.get("/v1/completeness", params={**Q2, "province": "50"})

    assert response.status_code == 200
    body = response.json()
    statuses = {d["code"]: d["status"] for d in body["statuses"]}
    assert len(statuses) == body["districts"] == 25
    assert {code: statuses[code] for code in ("5001", "5002", "5003", "5004", "5005", "5006")} == {
        "5001": "on_time", "5002": "late", "5003": "on_time", "5004": "late",
        "5005": "on_time", "5006": "not_yet",
    }  # fmt: skip
    assert statuses["5007"] == "not_yet"
    assert (body["reported"], body["on_time"], body["late"], body["not_reported"]) == (5, 3, 2, 20)
    assert (body["reporting_rate"], body["on_time_rate"]) == (0.2, 0.12)
    assert body["reported_share"] == body["reporting_rate"]
    assert body["due_on"] == "2025-04-15"
    assert body["days_left"] == (DUE - today_bangkok()).days
    missing = [d["code"] for d in body["missing"]]
    assert missing == sorted(missing)
    assert {"5006", "5007"} <= set(missing)
    assert body["statuses"][0] == {
        "code": "5001", "province_code": "50", "name_th": "เมืองเชียงใหม่",
        "name_en": "Mueang Chiang Mai", "status": "on_time", "subdistricts": 16,
    }  # fmt: skip


@pytest.mark.usefixtures("reported")
async def test_get_completeness_nationwide_counts_the_878_programme_districts(
    aggregator: httpx.AsyncClient,
) -> None:
    q2 = (await aggregator.get("/v1/completeness", params=Q2)).json()
    q3 = (await aggregator.get("/v1/completeness", params={**Q2, "quarter": 3})).json()
    bangkok = (await aggregator.get("/v1/completeness", params={**Q2, "province": "10"})).json()

    assert (q2["districts"], q2["reported"], q2["not_reported"]) == (878, 5, 873)
    assert "1001" not in {d["code"] for d in q2["statuses"]}  # a khet: outside the programme
    assert (q3["reported"], q3["not_reported"]) == (1, 877)
    assert (bangkok["districts"], bangkok["reported"], bangkok["reporting_rate"]) == (0, 0, 0.0)


@pytest.mark.usefixtures("reported")
async def test_put_deadline_moves_late_districts_on_time(aggregator: httpx.AsyncClient) -> None:
    later = {"due_on": str(LATE)}
    refused = await aggregator.put(
        "/v1/deadlines/2568/2", json=later, headers=bearer(AccessRole.NATIONAL_VIEWER)
    )
    put = await aggregator.put("/v1/deadlines/2568/2", json=later)
    body = (await aggregator.get("/v1/completeness", params={**Q2, "province": "50"})).json()
    listed = await aggregator.get(
        "/v1/deadlines", params={"fiscal_year": 2568}, headers=bearer(AccessRole.DISTRICT_OFFICER)
    )

    assert refused.status_code == 403
    assert put.status_code == 200
    assert put.json() == {"fiscal_year": 2568, "quarter": 2, "due_on": str(LATE), "default": False}
    assert (body["on_time"], body["late"], body["due_on"]) == (5, 0, str(LATE))
    assert listed.status_code == 200
    assert listed.json() == [
        {"fiscal_year": 2568, "quarter": 1, "due_on": "2025-01-15", "default": True},
        {"fiscal_year": 2568, "quarter": 2, "due_on": str(LATE), "default": False},
        {"fiscal_year": 2568, "quarter": 3, "due_on": "2025-07-15", "default": True},
        {"fiscal_year": 2568, "quarter": 4, "due_on": "2025-10-15", "default": True},
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due_on": "2024-12-31"}, "due_on"),  # before Q2 starts
        ({"due_on": "2026-04-02"}, "due_on"),  # more than a year after it ends
        ({"due_on": 1736899200}, "due_on"),  # seconds, not a date
        ({"due_on": "15/04/2025"}, "due_on"),
        ({"due_on": "2025-04-15", "by": "me"}, "by"),
    ],
)
async def test_put_deadline_refuses_bad_dates_with_field_message(
    aggregator: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await aggregator.put("/v1/deadlines/2568/2", json=body)

    assert response.status_code == 422
    assert field in str(response.json())


async def designate(js: JetStreamContext, district: str, villages: list[tuple[str, int]]) -> None:
    """Designated villages of FY 2568 in the district's directory entry, as the registry puts
    them."""
    kv = await js.key_value(DISTRICTS_BUCKET.bucket)
    entry = DirectoryDistrict.model_validate_json((await kv.get(district)).value or b"")
    designated = [DesignatedVillage(subdistrict_code=s, village_no=n, name=f"บ้าน {s}-{n}")
                  for s, n in villages]  # fmt: skip
    changed = entry.model_copy(update={"designated_villages": {2568: designated}})
    await kv.put(district, changed.model_dump_json().encode())


async def test_get_village_completeness_counts_reports_of_designated_villages(
    aggregator: httpx.AsyncClient, pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    await designate(js, "5001", [("500101", 1), ("500102", 3)])
    await designate(js, "5002", [("500201", 2)])
    village = Programme.SUSTAINABLE_VILLAGE
    reports = Reports()
    reports.submit(figures(district="5001", programme=village, village=("500101", 1)))
    reports.submit(figures(district="5001", programme=village, village=("500101", 1)))
    reports.submit(figures(district="5001", programme=village, village=("500101", 2)))  # not one
    reports.submit(figures(district="5002", village=("500201", 2)))  # CAST: no village report
    retracted = reports.submit(figures(district="5002", programme=village, village=("500201", 2)))
    reports.retract(retracted)
    await publish(js, reports.envelopes)
    await wait_for_totals(pool, reports.truth())

    province = await eventually(
        lambda: aggregator.get("/v1/completeness/villages", params={**Q2, "province": "50"}),
        lambda r: r.json().get("villages") == 3,
    )
    one = await aggregator.get("/v1/completeness/villages", params={**Q2, "district": "5001"})
    officer = await aggregator.get(
        "/v1/completeness/villages", params=Q2,
        headers=bearer(AccessRole.DISTRICT_OFFICER, "5002"),
    )  # fmt: skip
    outside = await aggregator.get(
        "/v1/completeness/villages", params={**Q2, "district": "5001"},
        headers=bearer(AccessRole.DISTRICT_OFFICER, "5002"),
    )  # fmt: skip

    body = province.json()
    assert (body["villages"], body["reported"], body["not_reported"]) == (3, 1, 2)
    assert body["reporting_rate"] == 0.3333
    assert body["rows"] == [
        {"district_code": "5001", "subdistrict_code": "500101", "village_no": 1,
         "name": "บ้าน 500101-1", "reports": 2},
        {"district_code": "5001", "subdistrict_code": "500102", "village_no": 3,
         "name": "บ้าน 500102-3", "reports": 0},
        {"district_code": "5002", "subdistrict_code": "500201", "village_no": 2,
         "name": "บ้าน 500201-2", "reports": 0},
    ]  # fmt: skip
    assert (one.json()["villages"], one.json()["reported"]) == (2, 1)
    assert officer.status_code == 200
    assert (officer.json()["district"], officer.json()["villages"]) == ("5002", 1)
    assert outside.status_code == 403
