"""The programme's scope: the 878 amphoe by default, Bangkok's khet only when an operator includes
them. Geography still serves all 928 districts; teams and the directory follow the scope."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from nats.aio.client import Client as NATS

from tests.utils.apps import serve
from warroom_registry.app import create_app
from warroom_registry.settings import RegistrySettings
from warroom_shared.directory import DistrictDirectory


async def _directory(nc: NATS) -> DistrictDirectory:
    """The directory as reporting and the aggregator read it from KV."""
    directory = DistrictDirectory()
    task = asyncio.create_task(directory.run(nc.jetstream(), retry_seconds=0.05))
    try:
        await asyncio.wait_for(directory.ready.wait(), timeout=10)
    finally:
        await directory.stop()
        await task
    return directory


async def test_districts_say_whether_they_are_in_the_programme(
    registry: httpx.AsyncClient,
) -> None:
    every = (await registry.get("/v1/districts")).json()
    inside = (await registry.get("/v1/districts", params={"in_programme": "true"})).json()
    outside = (await registry.get("/v1/districts", params={"in_programme": "false"})).json()
    bangkok = await registry.get("/v1/districts", params={"province": "10", "in_programme": True})

    assert len(every) == 928
    assert sum(d["in_programme"] for d in every) == 878
    assert len(inside) == 878
    assert {d["kind"] for d in inside} == {"amphoe"}
    assert len(outside) == 50
    assert {d["kind"] for d in outside} == {"khet"}
    assert bangkok.json() == []
    assert (await registry.get("/v1/districts/1001")).json()["in_programme"] is False
    assert (await registry.get("/v1/districts/5001")).json()["in_programme"] is True
    province = (await registry.get("/v1/provinces/10")).json()
    assert (province["districts"], province["districts_in_programme"]) == (50, 0)
    province = (await registry.get("/v1/provinces/50")).json()
    assert province["districts"] == province["districts_in_programme"] == 25


async def test_create_team_of_a_khet_answers_422_in_thai_or_english(
    registry: httpx.AsyncClient, database_url: str
) -> None:
    body = {"district_code": "1001", "fiscal_year": 2569}
    r = await registry.post("/v1/teams", json=body)
    english = await registry.post("/v1/teams", json=body, headers={"Accept-Language": "en"})

    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "outside_programme"
    assert "อยู่นอกโครงการ" in error["message"]
    assert "เขตพระนคร (1001)" in error["message"]
    assert "Phra Nakhon" in english.json()["error"]["message"]
    assert "(1001) is outside the programme" in english.json()["error"]["message"]
    assert english.headers["content-language"] == "en"
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "registry"})
    try:
        assert await conn.fetchval("SELECT count(*) FROM teams") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()


async def test_directory_carries_the_scope_and_follows_a_change_at_the_next_start(
    registry_settings: RegistrySettings, nc: NATS
) -> None:
    """Prepared by default: 878 in the programme. Started with the khet included, the registry
    republishes the changed entries (928) and takes a khet's team; started again without, 878."""
    assert len((await _directory(nc)).in_programme()) == 878

    including = registry_settings.model_copy(update={"programme_includes_khet": True})
    async with serve(create_app(including)) as registry:
        team = await registry.post("/v1/teams", json={"district_code": "1001", "fiscal_year": 2569})
        listed = await registry.get("/v1/districts", params={"in_programme": "true"})
        directory = await _directory(nc)

    assert team.status_code == 201, team.text
    assert len(listed.json()) == 928
    assert len(directory.in_programme()) == 928
    assert directory.districts["1001"].in_programme

    async with serve(create_app(registry_settings)):
        directory = await _directory(nc)
    assert len(directory.in_programme()) == 878
    assert not directory.districts["1001"].in_programme
