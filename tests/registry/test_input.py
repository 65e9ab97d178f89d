"""Input the registry must refuse with a 4xx, never a 500: text PostgreSQL cannot store,
coerced numbers, duplicate keys, headers and query parameters it cannot read."""

import json
from typing import Any

import httpx
import pytest

from tests.utils.factories import member

JSON = {"Content-Type": "application/json"}


async def _team(registry: httpx.AsyncClient) -> dict[str, Any]:
    r = await registry.post("/v1/teams", json={"district_code": "5001", "fiscal_year": 2569})
    assert r.status_code == 201, r.text
    team: dict[str, Any] = r.json()
    return team


def _fields(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    return {f["field"]: f["type"] for f in r.json()["error"]["fields"]}


@pytest.mark.parametrize("field", ["name", "position", "organisation", "email"])
@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udc00"])
async def test_assign_member_text_postgres_cannot_store_answers_422(
    registry: httpx.AsyncClient, field: str, escape: str
) -> None:
    team = await _team(registry)
    url = f"/v1/teams/{team['id']}/members/district_chief"
    raw = json.dumps(member(**{field: "MARK"})).replace('"MARK"', f'"somchai{escape}@x.th"')
    r = await registry.put(url, content=raw.encode(), headers={**JSON, "If-Match": '"1"'})
    assert field in _fields(r)
    assert (await registry.get(f"/v1/teams/{team['id']}")).json()["version"] == 1


@pytest.mark.parametrize("value", ["true", '"2569"', "2569.0", "2.569e3"])
async def test_create_team_fiscal_year_not_integer_answers_422(
    registry: httpx.AsyncClient, value: str
) -> None:
    raw = f'{{"district_code": "5001", "fiscal_year": {value}}}'.encode()
    r = await registry.post("/v1/teams", content=raw, headers=JSON)
    assert _fields(r) == {"fiscal_year": "int_type"}


async def test_create_team_duplicate_key_answers_400(registry: httpx.AsyncClient) -> None:
    raw = b'{"district_code": "5001", "fiscal_year": 2569, "district_code": "5025"}'
    r = await registry.post("/v1/teams", content=raw, headers={**JSON, "Accept-Language": "en"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "malformed_json"
    assert '"district_code" appears twice' in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "if_match",
    [
        "๑".encode(),  # Thai digit one
        "١".encode(),  # Arabic-Indic digit one
        "²".encode(),
        b"\xb2",  # a superscript two in latin-1, as headers are read: isdigit() but not int()
        b'"' + b"9" * 5000 + b'"',
        b'"99999999999999999999"',
        b"\xff\xfe",
        b"W/",
    ],
)
async def test_assign_and_remove_member_if_match_not_a_version_answers_412(
    registry: httpx.AsyncClient, if_match: bytes
) -> None:
    team = await _team(registry)
    url = f"/v1/teams/{team['id']}/members/district_chief"
    r = await registry.put(url, json=member(), headers={"If-Match": if_match})
    assert r.status_code == 412, r.text
    assert (await registry.put(url, json=member(), headers={"If-Match": '"1"'})).status_code == 200
    r = await registry.delete(url, headers={"If-Match": if_match})
    assert r.status_code == 412, r.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=1001%00", "query.cursor"),
        ("cursor=%FF", "query.cursor"),
        ("district=%C0%AF", "query.district"),
    ],
)
async def test_list_teams_query_not_text_answers_422(
    registry: httpx.AsyncClient, query: str, field: str
) -> None:
    r = await registry.get(f"/v1/teams?{query}")
    assert _fields(r) == {field: "invalid_text"}


async def test_list_teams_cursor_not_ours_answers_422(registry: httpx.AsyncClient) -> None:
    assert _fields(await registry.get("/v1/teams?cursor=zzz")) == {
        "query.cursor": "string_pattern_mismatch"
    }


@pytest.mark.parametrize(
    "if_none_match", [b'"' + b"f" * 20_000 + b'"', b"\xff\xfe", "๑".encode(), b"*, , ,"]
)
async def test_reference_if_none_match_garbage_answers_200(
    registry: httpx.AsyncClient, if_none_match: bytes
) -> None:
    r = await registry.get("/v1/reference", headers={"If-None-Match": if_none_match})
    assert r.status_code == 200
