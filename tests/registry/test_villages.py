"""Designated villages (Sustainable Village: one per subdistrict per fiscal year): stored, told as
events through the outbox, and written into the district's directory entry."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as NATS

from tests.utils.apps import serve
from tests.utils.auth import bearer
from tests.utils.nats import collect
from warroom_registry import villages
from warroom_registry.app import create_app
from warroom_registry.settings import RegistrySettings
from warroom_shared.events import DirectoryDistrict, Envelope
from warroom_shared.messaging import DISTRICTS_BUCKET
from warroom_shared.security.principal import AccessRole

URL = "/v1/districts/5001/villages/2569/500101"  # Mueang Chiang Mai, Si Phum
VILLAGE = {"village_no": 3, "name": "บ้านหนองบัว"}


async def _entry(nc: NATS, district: str = "5001") -> DirectoryDistrict:
    kv = await nc.jetstream().key_value(DISTRICTS_BUCKET.bucket)
    return DirectoryDistrict.model_validate_json((await kv.get(district)).value or b"")


def _villages(entry: DirectoryDistrict) -> dict[int, list[tuple[str, int, str]]]:
    return {
        year: [(v.subdistrict_code, v.village_no, v.name) for v in villages]
        for year, villages in entry.designated_villages.items()
    }


async def _outbox_rows(database_url: str) -> int:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "registry"})
    try:
        rows: int = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE subject LIKE 'warroom.registry.village.%'"
        )
        return rows
    finally:
        await conn.close()


async def test_designate_change_and_undesignate_a_village(
    registry: httpx.AsyncClient, nc: NATS
) -> None:
    designated = await registry.put(URL, json=VILLAGE)
    assert designated.status_code == 200, designated.text
    assert designated.json() | {"designated_at": None} == {
        "district_code": "5001", "fiscal_year": 2569, "subdistrict_code": "500101",
        "village_no": 3, "name": "บ้านหนองบัว", "designated_at": None,
    }  # fmt: skip
    assert _villages(await _entry(nc)) == {2569: [("500101", 3, "บ้านหนองบัว")]}

    again = await registry.put(URL, json=VILLAGE)  # the same village: nothing changes
    renamed = await registry.put(URL, json={"village_no": 3, "name": "บ้านหนองบัวทอง"})
    assert (again.status_code, renamed.status_code) == (200, 200)
    assert again.json() == designated.json()
    # Another village of the subdistrict replaces it: one per subdistrict per fiscal year.
    replaced = await registry.put(URL, json={"village_no": 7, "name": "บ้านดอนแก้ว"})
    assert replaced.status_code == 200
    listed = await registry.get("/v1/districts/5001/villages", params={"fiscal_year": 2569})
    assert [(v["village_no"], v["name"]) for v in listed.json()] == [(7, "บ้านดอนแก้ว")]
    assert _villages(await _entry(nc)) == {2569: [("500101", 7, "บ้านดอนแก้ว")]}

    removed = await registry.delete(URL)
    assert removed.status_code == 204
    assert (await registry.get("/v1/districts/5001/villages")).json() == []
    assert _villages(await _entry(nc)) == {}
    gone = await registry.delete(URL)
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "village_not_designated")

    events = await collect(nc, "REGISTRY", "warroom.registry.village.>", 5)
    envelopes = [Envelope.model_validate(body) for _, body, _ in events]
    said = [(e.type.split(".")[-2], e.data["village_no"], e.data.get("name")) for e in envelopes]
    assert said == [
        ("designated", 3, "บ้านหนองบัว"),
        ("designated", 3, "บ้านหนองบัวทอง"),
        ("undesignated", 3, None),
        ("designated", 7, "บ้านดอนแก้ว"),
        ("undesignated", 7, None),
    ]
    assert {s for s, _, _ in events} == {
        "warroom.registry.village.designated.50.5001",
        "warroom.registry.village.undesignated.50.5001",
    }
    assert all(e.data["fiscal_year"] == 2569 for e in envelopes)
    assert all(e.data["subdistrict_code"] == "500101" for e in envelopes)


async def test_directory_keeps_every_fiscal_year_and_subdistrict(
    registry: httpx.AsyncClient, nc: NATS
) -> None:
    """Writes of one district at the same time: the entry written last holds all of them."""
    subdistricts = ["500101", "500102", "500103", "500104", "500105", "500106"]
    answers = await asyncio.gather(*(
        registry.put(f"/v1/districts/5001/villages/{year}/{code}", json=VILLAGE)
        for code in subdistricts for year in (2568, 2569)
    ))  # fmt: skip

    assert {a.status_code for a in answers} == {200}
    expected = [(code, 3, "บ้านหนองบัว") for code in subdistricts]
    assert _villages(await _entry(nc)) == {2568: expected, 2569: expected}
    only = await registry.get("/v1/districts/5001/villages", params={"fiscal_year": 2568})
    assert [v["subdistrict_code"] for v in only.json()] == subdistricts


async def test_writes_of_a_district_wait_for_the_entry_before_them(
    registry: httpx.AsyncClient, database_url: str, nc: NATS
) -> None:
    """A write waits while another (a replica) holds the district between its commit and its
    directory entry, so it never puts an entry older than the other's."""
    other = await asyncpg.connect(database_url, server_settings={"search_path": "registry"})
    try:
        async with villages.district_lock(other, "5001"):
            put = asyncio.create_task(registry.put(URL, json=VILLAGE))
            async with asyncio.timeout(10):
                while not await other.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND classid = $1 AND objid = 5001",
                    villages.LOCK_CLASS,
                ):
                    await asyncio.sleep(0.02)  # polling a bounded wait
            assert not put.done()
            assert _villages(await _entry(nc)) == {}
        assert (await asyncio.wait_for(put, 10)).status_code == 200
    finally:
        await other.close()
    assert _villages(await _entry(nc)) == {2569: [("500101", 3, "บ้านหนองบัว")]}


async def test_start_writes_an_entry_whose_put_was_lost(
    registry_settings: RegistrySettings, database_url: str, nc: NATS
) -> None:
    """A designation committed but never put into KV (a crash between the two) is in the
    directory after the registry's next start."""
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "registry"})
    try:
        await conn.execute(
            "INSERT INTO designated_villages (fiscal_year, subdistrict_code, district_code, "
            "village_no, name) VALUES (2569, '500102', '5001', 5, 'บ้านป่าตัน')"
        )
    finally:
        await conn.close()
    assert _villages(await _entry(nc)) == {}

    async with serve(create_app(registry_settings)):
        assert _villages(await _entry(nc)) == {2569: [("500102", 5, "บ้านป่าตัน")]}


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/v1/districts/5001/villages/2569/500201", "subdistrict_not_in_district"),  # 5002's
        ("/v1/districts/5001/villages/2569/500199", "subdistrict_not_in_district"),  # none
        ("/v1/districts/1001/villages/2569/100101", "outside_programme"),  # a Bangkok khet
    ],
)
async def test_designation_outside_the_district_or_programme_answers_422(
    registry: httpx.AsyncClient, database_url: str, url: str, code: str
) -> None:
    put = await registry.put(url, json=VILLAGE)
    delete = await registry.delete(url)

    for r in (put, delete):
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == code
    if code == "outside_programme":
        assert "อยู่นอกโครงการ" in put.json()["error"]["message"]
    else:
        assert put.json()["error"]["fields"][0]["field"] == "path.subdistrict_code"
    assert await _outbox_rows(database_url) == 0


async def test_khet_village_accepted_when_an_operator_includes_the_khet(
    registry_settings: RegistrySettings, nc: NATS
) -> None:
    including = registry_settings.model_copy(update={"programme_includes_khet": True})
    async with serve(create_app(including)) as registry:
        r = await registry.put("/v1/districts/1001/villages/2569/100101", json=VILLAGE)

    assert r.status_code == 200, r.text
    assert _villages(await _entry(nc, "1001")) == {2569: [("100101", 3, "บ้านหนองบัว")]}


@pytest.mark.parametrize(
    ("role", "area", "write", "read"),
    [
        (AccessRole.DISTRICT_OFFICER, "5001", 200, 200),
        (AccessRole.PROVINCE_OFFICER, "50", 200, 200),
        (AccessRole.DISTRICT_OFFICER, "5002", 403, 403),  # another district of the province
        (AccessRole.PROVINCE_OFFICER, "12", 403, 403),
        (AccessRole.NATIONAL_VIEWER, None, 403, 200),
        (AccessRole.MONITOR, None, 403, 403),
    ],
)
async def test_who_designates_and_reads(
    registry: httpx.AsyncClient,
    role: AccessRole,
    area: str | None,
    write: int,
    read: int,
) -> None:
    headers = bearer(role, area)
    put = await registry.put(URL, json=VILLAGE, headers=headers)
    listed = await registry.get("/v1/districts/5001/villages", headers=headers)
    await registry.put(URL, json=VILLAGE)  # as an admin: there is one to undesignate
    delete = await registry.delete(URL, headers=headers)

    assert (put.status_code, listed.status_code, delete.status_code) == (
        write, read, 204 if write == 200 else write,
    )  # fmt: skip
    if put.status_code == 403:
        assert put.json()["error"]["code"] in ("outside_area", "forbidden")


@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        ({"village_no": "3", "name": "บ้าน"}, "village_no", "int_type"),
        ({"village_no": 3.0, "name": "บ้าน"}, "village_no", "int_type"),
        ({"village_no": 0, "name": "บ้าน"}, "village_no", "greater_than_equal"),
        ({"village_no": 100, "name": "บ้าน"}, "village_no", "less_than_equal"),
        ({"village_no": 3, "name": "  "}, "name", "string_too_short"),
        ({"village_no": 3, "name": "x" * 201}, "name", "string_too_long"),
        ({"village_no": 3, "name": "บ้าน\u0000"}, "name", "invalid_text"),
        ({"village_no": 3}, "name", "missing"),
        ({**VILLAGE, "headman": "สมชาย"}, "headman", "extra_forbidden"),
    ],
)
async def test_designate_invalid_fields_answer_422(
    registry: httpx.AsyncClient, body: dict[str, Any], field: str, kind: str
) -> None:
    r = await registry.put(URL, json=body)

    assert r.status_code == 422, r.text
    assert {f["field"]: f["type"] for f in r.json()["error"]["fields"]} == {field: kind}


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/v1/districts/5001/villages/1999/500101", 422, "path.fiscal_year"),
        ("/v1/districts/5001/villages/2569/50010", 422, "path.subdistrict_code"),
        ("/v1/districts/500x/villages/2569/500101", 422, "path.code"),
        ("/v1/districts/5099/villages/2569/509901", 404, None),
    ],
)
async def test_designate_bad_path_answers_4xx(
    registry: httpx.AsyncClient, url: str, status: int, field: str | None
) -> None:
    r = await registry.put(url, json=VILLAGE)

    assert r.status_code == status, r.text
    if field is not None:
        assert field in [f["field"] for f in r.json()["error"]["fields"]]
    listed = await registry.get("/v1/districts/5099/villages")
    assert listed.status_code == 404
