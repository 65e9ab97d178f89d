import httpx

from tests.utils.apps import serve
from tests.utils.auth import bearer
from warroom_aggregator.app import create_app
from warroom_aggregator.broadcast import Broadcaster
from warroom_aggregator.settings import AggregatorSettings
from warroom_shared.security.principal import AccessRole, Principal


async def test_national_headline_is_public_only_where_the_operator_opens_it(
    settings: AggregatorSettings, directory: None
) -> None:
    public = create_app(settings.model_copy(update={"public_national_totals": True}))
    async with serve(public, headers={}) as anonymous:
        national = await anonymous.get("/v1/totals", params={"scope": "national"})
        province = await anonymous.get("/v1/totals", params={"scope": "province", "code": "10"})
        breakdown = await anonymous.get("/v1/totals/breakdown", params={"by": "province"})
    async with serve(create_app(settings), headers={}) as closed:
        shut = await closed.get("/v1/totals", params={"scope": "national"})

    assert national.status_code == 200
    assert national.json()["reports"] == 0
    assert (province.status_code, breakdown.status_code, shut.status_code) == (401, 401, 401)


async def test_province_officer_totals_and_completeness_stay_in_its_province(
    aggregator: httpx.AsyncClient, directory_loaded: None
) -> None:
    officer = bearer(AccessRole.PROVINCE_OFFICER, "50")
    period = {"fiscal_year": 2568, "quarter": 1}

    own = await aggregator.get("/v1/completeness", params=period, headers=officer)
    other = await aggregator.get(
        "/v1/completeness", params={**period, "province": "10"}, headers=officer
    )
    table = await aggregator.get(
        "/v1/totals/breakdown", params={"by": "district", "scope": "province", "code": "50"},
        headers=officer,
    )  # fmt: skip
    villages = await aggregator.get(
        "/v1/completeness/villages", params={**period, "province": "10"}, headers=officer
    )

    assert own.status_code == 200
    assert own.json()["province"] == "50"
    assert own.json()["districts"] == 25
    assert other.status_code == 403
    assert villages.status_code == 403
    assert {row["key"][:2] for row in table.json()["rows"]} == {"50"}


def test_live_stream_shows_each_caller_only_its_area() -> None:
    broadcaster = Broadcaster()
    for scope, code in [("national", "TH"), ("province", "10"), ("district", "1001"),
                        ("district", "1002"), ("province", "50"), ("district", "5001")]:  # fmt: skip
        broadcaster.update((scope, code, 2568, 1), f"{scope}:{code}")

    def seen(principal: Principal) -> list[str]:
        return broadcaster.since(0, None, principal.covers)[1]

    assert seen(Principal("d", AccessRole.DISTRICT_OFFICER, "1001")) == ["district:1001"]
    assert seen(Principal("p", AccessRole.PROVINCE_OFFICER, "10")) == [
        "province:10", "district:1001", "district:1002",
    ]  # fmt: skip
    assert len(seen(Principal("m", AccessRole.MONITOR))) == 6
