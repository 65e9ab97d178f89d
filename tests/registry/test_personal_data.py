import httpx

from tests.utils.auth import bearer
from tests.utils.factories import member
from warroom_shared.security.principal import AccessRole

# Mueang Nonthaburi: Bangkok's khet are outside the programme, so no team of theirs.
AREAS = {AccessRole.DISTRICT_OFFICER: "1201", AccessRole.PROVINCE_OFFICER: "12"}


async def _team_with_member(registry: httpx.AsyncClient, district: str) -> str:
    created = await registry.post(
        "/v1/teams", json={"district_code": district, "fiscal_year": 2569}
    )
    team_id: str = created.json()["id"]
    await registry.put(
        f"/v1/teams/{team_id}/members/district_chief", json=member(),
        headers={"If-Match": created.headers["ETag"]},
    )  # fmt: skip
    return team_id


async def test_get_team_shows_personal_data_only_to_admins_and_its_officers(
    registry: httpx.AsyncClient,
) -> None:
    team_id = await _team_with_member(registry, "1201")
    seen = {}
    for role in (AccessRole.DISTRICT_OFFICER, AccessRole.PROVINCE_OFFICER, AccessRole.ADMIN,
                 AccessRole.NATIONAL_VIEWER):  # fmt: skip
        answer = await registry.get(f"/v1/teams/{team_id}", headers=bearer(role, AREAS.get(role)))
        assert answer.status_code == 200
        seen[role] = answer.json()["members"][0]

    for role in (AccessRole.DISTRICT_OFFICER, AccessRole.PROVINCE_OFFICER, AccessRole.ADMIN):
        assert seen[role]["name"] == member()["name"]
        assert seen[role]["phone"] == member()["phone"]
    viewer = seen[AccessRole.NATIONAL_VIEWER]
    assert (viewer["name"], viewer["phone"], viewer["email"]) == (None, None, None)
    assert viewer["role"] == "district_chief"
    assert viewer["position"] == member()["position"]


async def test_every_showing_of_personal_data_is_audited(registry: httpx.AsyncClient) -> None:
    team_id = await _team_with_member(registry, "1201")
    await registry.get(f"/v1/teams/{team_id}", headers=bearer(AccessRole.DISTRICT_OFFICER, "1201"))
    await registry.get(f"/v1/teams/{team_id}", headers=bearer(AccessRole.NATIONAL_VIEWER))

    log = (await registry.get(f"/v1/teams/{team_id}/personal-data-reads")).json()

    # The admin's assignment answer showed the member too; the national viewer saw no names.
    assert [(r["access_role"], r["action"].split()[0]) for r in log] == [
        ("admin", "PUT"), ("district_officer", "GET"),
    ]  # fmt: skip
    assert log[1]["subject"] == "dev-district_officer-1201"


async def test_officer_of_another_province_cannot_find_the_team(
    registry: httpx.AsyncClient,
) -> None:
    team_id = await _team_with_member(registry, "5001")
    answer = await registry.get(f"/v1/teams/{team_id}", headers=bearer(AccessRole.PROVINCE_OFFICER))
    listed = await registry.get("/v1/teams", headers=bearer(AccessRole.PROVINCE_OFFICER))

    assert answer.status_code == 404
    assert listed.status_code == 200
    assert listed.json()["items"] == []
