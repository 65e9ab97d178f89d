import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext

from tests.aggregator.events import Key, Reports, Vector, figures, in_scope, publish
from tests.aggregator.helpers import wait_drained, wait_for_totals
from warroom_shared.domain import Dimension, Programme, Sector, Stage

pytestmark = pytest.mark.usefixtures("directory_loaded")


def expected(truth: dict[Key, Vector], scope: str, code: str, **filters: object) -> Vector:
    """Sum the ground truth's buckets that a filter selects; left-out filters mean all."""
    filters = {k: v for k, v in filters.items() if v is not None}
    if "stage" in filters:  # a stage is counted as a facet of its own, as a dimension is
        filters["dimension"] = f"stage:{filters.pop('stage')}"
    wanted = {"dimension": "", **filters}
    total = [0] * (2 + len(Sector))
    for (s, c, year, quarter, programme, dimension), vector in truth.items():
        key = {"fiscal_year": year, "quarter": quarter, "programme": programme,
               "dimension": dimension}  # fmt: skip
        if in_scope(s, c, scope, code) and all(key[k] == v for k, v in wanted.items()):
            total = [a + b for a, b in zip(total, vector, strict=True)]
    return total


def figures_of(body: dict[str, object]) -> Vector:
    participants = body["participants"]
    assert isinstance(participants, dict)
    return [body["reports"], body["households"], *(participants[s.value] for s in Sector)]  # type: ignore[list-item]


@pytest.fixture
async def truth(
    aggregator: httpx.AsyncClient, pool: asyncpg.Pool, js: JetStreamContext
) -> dict[Key, Vector]:
    reports = Reports()
    reports.lives(400)
    await publish(js, reports.envelopes)
    await wait_for_totals(pool, reports.truth())
    await wait_drained(js)
    return reports.truth()


FILTERS = [
    ("national", "TH", {}),
    ("national", "TH", {"fiscal_year": 2568}),
    ("national", "TH", {"fiscal_year": 2568, "quarter": 2}),
    ("national", "TH", {"programme": "sustainable_village", "dimension": "water"}),
    ("province", "10", {}),
    ("province", "50", {"quarter": 3, "dimension": "income"}),
    ("district", "1001", {"fiscal_year": 2567, "programme": "cast"}),
    ("district", "9601", {"fiscal_year": 2568, "quarter": 1, "programme": "sustainable_village"}),
    ("national", "TH", {"stage": "benefit"}),
    ("province", "50", {"fiscal_year": 2568, "programme": "cast", "stage": "talk"}),
]


async def test_get_totals_matches_ground_truth_for_each_filter(
    aggregator: httpx.AsyncClient, truth: dict[Key, Vector]
) -> None:
    for scope, code, filters in FILTERS:
        params = {"scope": scope, **({} if scope == "national" else {"code": code}), **filters}
        response = await aggregator.get("/v1/totals", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert figures_of(body) == expected(truth, scope, code, **filters), params
        assert body["participants_total"] == sum(body["participants"].values())
        assert (body["scope"], body["code"]) == (scope, code)
        assert body["fiscal_year"] == filters.get("fiscal_year")
        assert body["dimension"] == filters.get("dimension")
        assert body["stage"] == filters.get("stage")


async def test_get_totals_names_the_place(aggregator: httpx.AsyncClient) -> None:
    province = (await aggregator.get("/v1/totals?scope=province&code=10")).json()
    district = (await aggregator.get("/v1/totals?scope=district&code=5001")).json()
    empty = (await aggregator.get("/v1/totals?fiscal_year=2600")).json()

    assert province["name_en"] == "Bangkok"
    assert district["name_th"] == "เมืองเชียงใหม่"
    assert empty["reports"] == 0
    assert empty["participants"] == {s.value: 0 for s in Sector}


BREAKDOWNS = [  # by, scope, code, filters, the keys the ground truth can have
    ("province", "national", "TH", {}, ["10", "50", "96"]),
    ("district", "province", "10", {}, ["1001", "1002", "1050"]),
    ("quarter", "district", "5025", {"fiscal_year": 2568}, [1, 2, 3, 4]),
    ("programme", "national", "TH", {}, [p.value for p in Programme]),
    ("dimension", "province", "50", {"quarter": 2}, [d.value for d in Dimension]),
    ("stage", "province", "50", {"fiscal_year": 2568}, [s.value for s in Stage]),
    ("stage", "national", "TH", {"programme": "sustainable_village"}, [s.value for s in Stage]),
    ("district", "province", "50", {"stage": "act"}, ["5001", "5025"]),
]


async def test_get_breakdown_by_each_key_matches_ground_truth(
    aggregator: httpx.AsyncClient, truth: dict[Key, Vector]
) -> None:
    for by, scope, code, filters, keys in BREAKDOWNS:
        params = {"by": by, "scope": scope, **({"code": code} if scope != "national" else {})}
        response = await aggregator.get("/v1/totals/breakdown", params={**params, **filters})
        assert response.status_code == 200, response.text
        rows = {r["key"]: figures_of(r) for r in response.json()["rows"] if any(figures_of(r))}
        want = {}
        for key in keys:
            if by in ("province", "district"):
                vector = expected(truth, by, str(key), **filters)
            else:
                vector = expected(truth, scope, code, **{**filters, by: key})
            if any(vector):
                want[str(key)] = vector
        assert rows == want, by


async def test_get_breakdown_by_sector_and_by_district_nationwide(
    aggregator: httpx.AsyncClient, truth: dict[Key, Vector]
) -> None:
    sectors = (await aggregator.get("/v1/totals/breakdown?by=sector&fiscal_year=2568")).json()
    districts = (await aggregator.get("/v1/totals/breakdown?by=district")).json()

    national = expected(truth, "national", "TH", fiscal_year=2568)
    assert [r["participants_total"] for r in sectors["rows"]] == national[2:]
    assert [r["key"] for r in sectors["rows"]] == [s.value for s in Sector]
    assert sectors["rows"][0]["name_th"] == "ภาคราชการ"
    reported = {r["key"] for r in districts["rows"] if r["reports"]}
    assert reported == {"1001", "1002", "1050", "5001", "5025", "9601"}
    # every programme district, zeros where nothing was reported, and the khet with reports
    assert len(districts["rows"]) == 878 + 3
    bangkok = (
        await aggregator.get("/v1/totals/breakdown?by=district&scope=province&code=10")
    ).json()
    provinces = (await aggregator.get("/v1/totals/breakdown?by=province")).json()
    assert [r["key"] for r in bangkok["rows"]] == ["1001", "1002", "1050"]
    assert len(provinces["rows"]) == 77
    assert sum(r["reports"] for r in districts["rows"]) == expected(truth, "national", "TH")[0]
    assert next(r for r in districts["rows"] if r["key"] == "1050")["name_en"] == "Bang Bon"


async def test_get_breakdown_by_stage_follows_submit_amend_retract_in_funnel_order(
    aggregator: httpx.AsyncClient, pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    talk, think, act, benefit = Stage
    reports = Reports()
    for stages in [(talk,), (talk, think), (talk, think, act), (talk, think, act, benefit)]:
        reports.submit(figures(district="5001", stages=stages))
    moved = reports.submit(figures(district="5025", stages=(talk, act)))
    reports.amend(moved, figures(district="5025", stages=(talk, think, act, benefit)))
    reports.retract(reports.submit(figures(district="5001", stages=(benefit,))))
    reports.submit(figures(district="5001", stages=(), programme=Programme.SUSTAINABLE_VILLAGE))
    await publish(js, reports.envelopes)
    await wait_for_totals(pool, reports.truth())

    funnel = await aggregator.get(
        "/v1/totals/breakdown", params={"by": "stage", "scope": "province", "code": "50"}
    )
    act_only = await aggregator.get("/v1/totals", params={"stage": "act", "programme": "cast"})
    district = await aggregator.get(
        "/v1/totals/breakdown", params={"by": "stage", "scope": "district", "code": "5025"}
    )

    rows = funnel.json()["rows"]
    assert [(r["key"], r["reports"]) for r in rows] == [
        ("talk", 5), ("think", 4), ("act", 3), ("benefit", 2),
    ]  # fmt: skip
    assert (rows[0]["name_th"], rows[3]["name_en"]) == ("ร่วมพูดคุย", "Benefit together")
    assert act_only.json()["reports"] == 3
    assert [r["reports"] for r in district.json()["rows"]] == [1, 1, 1, 1]
    assert (await aggregator.get("/v1/totals", params={"scope": "province", "code": "50"})).json()[
        "reports"
    ] == 6  # a report naming no stage still counts overall


async def test_get_breakdown_by_month_labels_buddhist_era_months(
    aggregator: httpx.AsyncClient, pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    reports = Reports()
    for quarter, month in [(1, 10), (1, 12), (1, 12), (2, 2), (2, None)]:
        reports.submit(figures(district="5001", quarter=quarter, month=month, households=2))
    moved = reports.submit(figures(district="5001", quarter=2, month=1))
    reports.amend(moved, figures(district="5001", quarter=2, month=3))
    reports.submit(figures(district="5001", fiscal_year=2567, quarter=1, month=10))
    await publish(js, reports.envelopes)
    await wait_for_totals(pool, reports.truth())

    year = await aggregator.get("/v1/totals/breakdown", params={"by": "month", "fiscal_year": 2568})
    q2 = await aggregator.get(
        "/v1/totals/breakdown",
        params={"by": "month", "fiscal_year": 2568, "quarter": 2, "scope": "district",
                "code": "5001"},
    )  # fmt: skip
    no_year = await aggregator.get("/v1/totals/breakdown", params={"by": "month"})

    rows = year.json()["rows"]
    assert [r["key"] for r in rows][:4] == ["2567-10", "2567-11", "2567-12", "2568-01"]
    assert (len(rows), rows[-1]["key"]) == (13, "unknown")  # 12 months, then the unknown
    assert [r["reports"] for r in rows] == [1, 0, 2, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert rows[4] | {"participants": None} == {
        "key": "2568-02", "name_th": "ก.พ. 2568", "name_en": "Feb 2568", "reports": 1,
        "participants": None, "participants_total": 7, "households": 2,
    }  # fmt: skip
    assert [(r["key"], r["reports"]) for r in q2.json()["rows"]] == [
        ("2568-01", 0), ("2568-02", 1), ("2568-03", 1), ("unknown", 1),
    ]  # fmt: skip
    assert no_year.status_code == 422
