import asyncio

import asyncpg
import httpx
import pytest

from tests.utils.factories import member


async def _create(
    registry: httpx.AsyncClient, district: str = "1201", fy: int = 2569
) -> httpx.Response:
    return await registry.post("/v1/teams", json={"district_code": district, "fiscal_year": fy})


async def test_create_team_returns_201_with_etag(registry: httpx.AsyncClient) -> None:
    r = await _create(registry)
    assert r.status_code == 201
    team = r.json()
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == f"/v1/teams/{team['id']}"
    assert team["province_code"] == "12"
    assert team["completeness"]["roles_filled"] == 0
    assert team["completeness"]["roles_total"] == 10
    assert team["completeness"]["sectors_total"] == 7
    assert len(team["completeness"]["missing_roles"]) == 10


async def test_create_team_twice_answers_409_naming_the_team(registry: httpx.AsyncClient) -> None:
    first = await _create(registry)
    assert first.status_code == 201
    r = await _create(registry)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "team_exists"
    assert r.json()["error"]["team_id"] == first.json()["id"]
    assert r.headers["Location"] == first.headers["Location"]
    assert (await _create(registry, fy=2570)).status_code == 201


async def test_create_team_concurrently_creates_one(registry: httpx.AsyncClient) -> None:
    results = await asyncio.gather(*(_create(registry, "5025") for _ in range(10)))
    assert sorted(r.status_code for r in results) == [201] + [409] * 9


async def test_create_team_unknown_district_answers_404(registry: httpx.AsyncClient) -> None:
    r = await _create(registry, district="1099")
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"district_code": "10x1", "fiscal_year": 2569}, "district_code"),
        ({"district_code": "1201", "fiscal_year": 1999}, "fiscal_year"),
        ({"district_code": "1201", "fiscal_year": "soon"}, "fiscal_year"),
        ({"district_code": "1201"}, "fiscal_year"),
        ({"district_code": "1201", "fiscal_year": 2569, "extra": 1}, "extra"),
    ],
)
async def test_create_team_invalid_fields_answer_422(
    registry: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    r = await registry.post("/v1/teams", json=body)
    assert r.status_code == 422
    assert field in [f["field"] for f in r.json()["error"]["fields"]]


async def test_bad_bodies_answer_4xx(registry: httpx.AsyncClient) -> None:
    r = await registry.post(
        "/v1/teams", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    r = await registry.post(
        "/v1/teams", content=b"district_code=1201", headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 415
    r = await registry.post("/v1/teams", json={"district_code": "1201", "pad": "x" * 70_000})
    assert r.status_code == 413


async def test_assign_member_fills_role_and_sector(registry: httpx.AsyncClient) -> None:
    team = (await _create(registry)).json()
    r = await registry.put(
        f"/v1/teams/{team['id']}/members/district_chief", json=member(), headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200
    assert r.headers["ETag"] == '"2"'
    body = r.json()
    assert body["members"][0]["sector"] == "government"  # the role's default sector
    assert body["completeness"]["roles_filled"] == 1
    assert body["completeness"]["sectors_covered"] == 1
    r = await registry.put(
        f"/v1/teams/{team['id']}/members/religious_leader",
        json=member(),
        headers={"If-Match": '"2"'},
    )
    assert r.json()["completeness"]["sectors_covered"] == 2
    # Replacing a holder keeps one holder per role.
    r = await registry.put(
        f"/v1/teams/{team['id']}/members/district_chief",
        json=member(name="สมหญิง", sector="people"),
        headers={"If-Match": '"3"'},
    )
    body = r.json()
    assert [m["role"] for m in body["members"]].count("district_chief") == 1
    assert body["completeness"]["roles_filled"] == 2
    assert body["completeness"]["sectors_covered"] == 2  # religious + people


async def test_full_team_is_complete(registry: httpx.AsyncClient) -> None:
    team = (await _create(registry)).json()
    ref = (await registry.get("/v1/reference")).json()
    version = 1
    for role in ref["roles"]:
        r = await registry.put(
            f"/v1/teams/{team['id']}/members/{role['code']}",
            json=member(),
            headers={"If-Match": f'"{version}"'},
        )
        version += 1
    completeness = r.json()["completeness"]
    assert completeness["roles_filled"] == 10
    assert completeness["sectors_covered"] == 6  # no role is the media sector's
    assert completeness["missing_sectors"] == ["media"]


async def test_stale_if_match_answers_412_and_changes_nothing(registry: httpx.AsyncClient) -> None:
    team = (await _create(registry)).json()
    url = f"/v1/teams/{team['id']}/members/district_chief"
    assert (await registry.put(url, json=member(), headers={"If-Match": '"1"'})).status_code == 200
    r = await registry.put(url, json=member(name="คนอื่น"), headers={"If-Match": '"1"'})
    assert r.status_code == 412
    assert r.headers["ETag"] == '"2"'
    current = (await registry.get(f"/v1/teams/{team['id']}")).json()
    assert current["members"][0]["name"] == "สมชาย ใจดี"
    assert current["version"] == 2
    r = await registry.put(url, json=member())
    assert r.status_code == 428


async def test_remove_member(registry: httpx.AsyncClient) -> None:
    team = (await _create(registry)).json()
    url = f"/v1/teams/{team['id']}/members/academic_leader"
    await registry.put(url, json=member(), headers={"If-Match": '"1"'})
    r = await registry.delete(url, headers={"If-Match": '"2"'})
    assert r.status_code == 200
    assert r.json()["members"] == []
    assert (await registry.delete(url, headers={"If-Match": '"3"'})).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"sector": "aliens"}, "sector"),
        ({"salary": 1}, "salary"),
    ],
)
async def test_assign_member_invalid_fields_answer_422(
    registry: httpx.AsyncClient, overrides: dict[str, object], field: str
) -> None:
    team = (await _create(registry)).json()
    r = await registry.put(
        f"/v1/teams/{team['id']}/members/district_chief",
        json=member(**overrides),
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 422
    assert field in [f["field"] for f in r.json()["error"]["fields"]]


async def test_unknown_team_or_role(registry: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await registry.get(f"/v1/teams/{missing}")).status_code == 404
    r = await registry.put(
        f"/v1/teams/{missing}/members/district_chief", json=member(), headers={"If-Match": '"1"'}
    )
    assert r.status_code == 404
    team = (await _create(registry)).json()
    r = await registry.put(
        f"/v1/teams/{team['id']}/members/king", json=member(), headers={"If-Match": '"1"'}
    )
    assert r.status_code == 422
    assert (await registry.get("/v1/teams/not-a-uuid")).status_code == 422


async def test_list_teams_filters(registry: httpx.AsyncClient) -> None:
    for district, fy in [("1201", 2569), ("1202", 2569), ("5001", 2569), ("1201", 2568)]:
        assert (await _create(registry, district, fy)).status_code == 201
    r = await registry.get("/v1/teams", params={"province": "12", "fiscal_year": 2569})
    assert [t["district_code"] for t in r.json()["items"]] == ["1201", "1202"]
    r = await registry.get("/v1/teams", params={"district": "1201"})
    assert [t["fiscal_year"] for t in r.json()["items"]] == [2568, 2569]
    first = await registry.get("/v1/teams", params={"limit": 2})
    assert first.json()["next_cursor"] is not None
    rest = await registry.get(
        "/v1/teams", params={"limit": 2, "cursor": first.json()["next_cursor"]}
    )
    codes = [
        (t["district_code"], t["fiscal_year"]) for t in first.json()["items"] + rest.json()["items"]
    ]
    assert codes == [("1201", 2568), ("1201", 2569), ("1202", 2569), ("5001", 2569)]
    assert (await registry.get("/v1/teams", params={"province": "99"})).status_code == 404


async def test_failed_write_leaves_nothing(registry: httpx.AsyncClient, database_url: str) -> None:
    """Two officers change the team from the same read: the second write finds, under the row's
    lock, that the first one changed it, answers 412 and leaves no member, version or event."""
    created = await _create(registry)
    team = created.json()
    url = f"/v1/teams/{team['id']}/members/district_chief"
    answers = await asyncio.gather(*(
        registry.put(url, json=member(name=name), headers={"If-Match": created.headers["ETag"]})
        for name in ("ก คนแรก", "ข คนที่สอง")
    ))  # fmt: skip

    assert sorted(a.status_code for a in answers) == [200, 412]
    won = next(a for a in answers if a.status_code == 200)
    lost = next(a for a in answers if a.status_code == 412)
    assert lost.json()["error"]["code"] == "stale_version"
    assert lost.headers["ETag"] == '"2"'
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "registry"})
    try:
        names = await conn.fetch("SELECT name FROM team_members")
        version = await conn.fetchval("SELECT version FROM teams")
        events = await conn.fetchval(
            "SELECT (SELECT count(*) FROM outbox) + (SELECT events FROM outbox_published)"
        )
    finally:
        await conn.close()
    assert [r["name"] for r in names] == [m["name"] for m in won.json()["members"]]
    assert version == 2
    assert events == 2  # the team's creation and the one assignment
