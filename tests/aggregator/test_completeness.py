import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext

from tests.aggregator.events import Reports, figures, publish
from tests.aggregator.helpers import wait_drained, wait_for_totals

pytestmark = pytest.mark.usefixtures("directory_loaded")


@pytest.fixture
async def reported(aggregator: httpx.AsyncClient, pool: asyncpg.Pool, js: JetStreamContext) -> None:
    """FY 2568 Q2: 1001 and 1002 reported, 5001's only report was retracted; 1050 in Q3."""
    reports = Reports()
    for district in ("1001", "1001", "1002"):
        reports.submit(figures(district=district))
    reports.retract(reports.submit(figures(district="5001")))
    reports.submit(figures(district="1050", quarter=3))
    await publish(js, reports.envelopes)
    await wait_for_totals(pool, reports.truth())
    await wait_drained(js)


@pytest.mark.usefixtures("reported")
async def test_get_completeness_of_province_lists_missing_districts(
    aggregator: httpx.AsyncClient,
) -> None:
    response = await aggregator.get("/v1/completeness?fiscal_year=2568&quarter=2&province=10")

    assert response.status_code == 200
    body = response.json()
    assert (body["districts"], body["reported"], body["not_reported"]) == (50, 2, 48)
    missing = [d["code"] for d in body["missing"]]
    assert missing == sorted(missing)
    assert "1001" not in missing
    assert "1002" not in missing
    assert "1050" in missing
    assert body["missing"][0] == {
        "code": "1003", "province_code": "10", "name_th": "เขตหนองจอก", "name_en": "Nong Chok",
    }  # fmt: skip
    assert body["reported_share"] == 0.04


@pytest.mark.usefixtures("reported")
async def test_get_completeness_nationwide_counts_retracted_as_missing(
    aggregator: httpx.AsyncClient,
) -> None:
    q2 = (await aggregator.get("/v1/completeness?fiscal_year=2568&quarter=2")).json()
    q3 = (await aggregator.get("/v1/completeness?fiscal_year=2568&quarter=3")).json()
    q4 = (await aggregator.get("/v1/completeness?fiscal_year=2568&quarter=4")).json()

    assert (q2["districts"], q2["reported"]) == (928, 2)
    assert "5001" in {d["code"] for d in q2["missing"]}
    assert (q3["reported"], q3["not_reported"]) == (1, 927)
    assert (q4["reported"], len(q4["missing"])) == (0, 928)
