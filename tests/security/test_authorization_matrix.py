"""Every operation of the three OpenAPI documents × every role × inside / outside the caller's
area, plus no token, a token signed by a stranger and an expired one.

The operations come from the OpenAPI documents, so a new endpoint without an access rule, or
without a case here, fails the suite. What each role may do is written out here (`ACCESS`, the
README's role table operation by operation), apart from the code under test: the OpenAPI
documents' `x-warroom-access` must say the same, and real calls must answer by it, so widening
an `Allow(...)` fails. Where the area comes in, the expectation is written out too: an officer
reaches its own district, a province officer its whole province, and nobody reaches the other
province (Chiang Mai, 50) except national roles.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI

from tests.utils.apps import Platform, live_server
from tests.utils.auth import token
from tests.utils.factories import member, report
from warroom_aggregator.app import create_app as create_aggregator
from warroom_registry.app import create_app as create_registry
from warroom_reporting.app import create_app as create_reporting
from warroom_shared.security.principal import AccessRole
from warroom_shared.security.tokens import DevKeys

Level = Literal["none", "district", "province", "national"]
# Mueang Nonthaburi: an amphoe, in the programme (Bangkok's khet are outside it by default)
INSIDE = {"district": "1201", "province": "12", "subdistrict": "120101"}
OUTSIDE = {"district": "5001", "province": "50", "subdistrict": "500101"}  # Mueang Chiang Mai
AREAS = {AccessRole.DISTRICT_OFFICER: INSIDE["district"], AccessRole.PROVINCE_OFFICER: "12"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None


Builder = Callable[["World", dict[str, str]], Awaitable[Call]]


@dataclass(frozen=True)
class Case:
    """How to call one operation on a place, and what an out-of-area call answers."""

    build: Builder
    level: Level = "none"  # the place the call reaches; "none": none (or the caller's own area)
    ok: int = 200
    denied: int = 403  # 404 when the call names a record by id


class World:
    """The three services on real sockets, and an admin's clients to set the scene."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.admin = {
            name: httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {token()}"}, timeout=10
            )
            for name, url in urls.items()
        }
        self._years = itertools.count(2600)

    async def team(self, place: dict[str, str], with_member: bool = False) -> dict[str, Any]:
        """A fresh team of the place's district (each in a fiscal year of its own)."""
        body = {"district_code": place["district"], "fiscal_year": next(self._years)}
        created = await self.admin["registry"].post("/v1/teams", json=body)
        assert created.status_code == 201, created.text
        team: dict[str, Any] = created.json()
        if with_member:
            assigned = await self.admin["registry"].put(
                f"/v1/teams/{team['id']}/members/district_chief", json=member(),
                headers={"If-Match": created.headers["ETag"]},
            )  # fmt: skip
            assert assigned.status_code == 200, assigned.text
            team = assigned.json()
        return team

    async def report(self, place: dict[str, str]) -> dict[str, Any]:
        body = report(district_code=place["district"], subdistrict_code=place["subdistrict"])
        created = await self.admin["reporting"].post("/v1/reports", json=body)
        assert created.status_code == 201, created.text
        return body

    async def close(self) -> None:
        for client in self.admin.values():
            await client.aclose()


def call(method: str, path: str, **kwargs: Any) -> Builder:
    """A call that needs no scene: `{district}`, `{province}` in path and params are filled in."""

    templates: dict[str, str] = kwargs.pop("params", {})

    async def build(_: World, place: dict[str, str]) -> Call:
        params = {k: v.format(**place) for k, v in templates.items()}
        return Call(method, path.format(**place), params=params or None, **kwargs)

    return build


async def _new_team(world: World, place: dict[str, str]) -> Call:
    body = {"district_code": place["district"], "fiscal_year": next(world._years)}
    return Call("POST", "/v1/teams", json=body)


async def _read_team(world: World, place: dict[str, str]) -> Call:
    return Call("GET", f"/v1/teams/{(await world.team(place, with_member=True))['id']}")


async def _team_audit(world: World, place: dict[str, str]) -> Call:
    team = await world.team(place)
    return Call("GET", f"/v1/teams/{team['id']}/personal-data-reads")


async def _assign(world: World, place: dict[str, str]) -> Call:
    team = await world.team(place)
    return Call(
        "PUT", f"/v1/teams/{team['id']}/members/district_chief", json=member(),
        headers={"If-Match": f'"{team["version"]}"'},
    )  # fmt: skip


async def _unassign(world: World, place: dict[str, str]) -> Call:
    team = await world.team(place, with_member=True)
    return Call(
        "DELETE", f"/v1/teams/{team['id']}/members/district_chief",
        headers={"If-Match": f'"{team["version"]}"'},
    )  # fmt: skip


VILLAGE = {"village_no": 3, "name": "บ้านหนองบัว"}


def _village(place: dict[str, str]) -> str:
    return f"/v1/districts/{place['district']}/villages/2569/{place['subdistrict']}"


async def _designate(_: World, place: dict[str, str]) -> Call:
    return Call("PUT", _village(place), json=VILLAGE)


async def _undesignate(world: World, place: dict[str, str]) -> Call:
    designated = await world.admin["registry"].put(_village(place), json=VILLAGE)
    assert designated.status_code == 200, designated.text
    return Call("DELETE", _village(place))


async def _submit(_: World, place: dict[str, str]) -> Call:
    return Call(
        "POST", "/v1/reports",
        json=report(district_code=place["district"], subdistrict_code=place["subdistrict"]),
    )  # fmt: skip


def _on_report(method: str, suffix: str = "", **kwargs: Any) -> Builder:
    async def build(world: World, place: dict[str, str]) -> Call:
        body = await world.report(place)
        return Call(method, f"/v1/reports/{body['report_id']}{suffix}", **kwargs)

    return build


async def _amend(world: World, place: dict[str, str]) -> Call:
    body = await world.report(place)
    content = {k: v for k, v in body.items() if k != "report_id"} | {"households": 99}
    return Call(
        "PUT", f"/v1/reports/{body['report_id']}", json=content, headers={"If-Match": '"1"'}
    )


async def _bulk(_: World, place: dict[str, str]) -> Call:
    line = report(district_code=place["district"], subdistrict_code=place["subdistrict"])
    return Call(
        "POST", "/v1/reports:bulk", content=httpx.Request("POST", "/", json=line).content,
        headers={"Content-Type": "application/x-ndjson"},
    )  # fmt: skip


def public() -> dict[str, Any]:
    return {"public": True, "anonymous": True, "roles": []}


def allow(*roles: str, anonymous: bool = False) -> dict[str, Any]:
    return {"public": False, "anonymous": anonymous, "roles": list(roles)}


# README, "Security": admin everything; national_viewer reads reports, teams and totals of the
# whole country; province_officer reads its province and manages its districts' teams and
# designated villages; district_officer posts, amends and retracts its district's reports,
# manages its team and designated villages and reads its district's totals and completeness;
# monitor reads totals, completeness, the live stream, the outbox backlog and consumer figures.
# Roles are listed in the order admin, national_viewer, province_officer, district_officer,
# monitor. Change this only with the README.
EVERY_ROLE = ("admin", "national_viewer", "province_officer", "district_officer", "monitor")
READ_GEOGRAPHY = allow(*EVERY_ROLE)
READ_RECORDS = allow("admin", "national_viewer", "province_officer", "district_officer")
MANAGE_TEAMS = allow("admin", "province_officer", "district_officer")
WRITE_REPORTS = allow("admin", "district_officer")
READ_TOTALS = allow(*EVERY_ROLE)
OPERATIONS = allow("admin", "monitor")
COMMON = {
    "GET /healthz": public(),
    "GET /readyz": public(),
    "GET /asyncapi.json": public(),
    "GET /metrics": OPERATIONS,
}
ACCESS: dict[str, dict[str, dict[str, Any]]] = {
    "registry": {
        **COMMON,
        "GET /v1/provinces": READ_GEOGRAPHY,
        "GET /v1/provinces/{code}": READ_GEOGRAPHY,
        "GET /v1/districts": READ_GEOGRAPHY,
        "GET /v1/districts/{code}": READ_GEOGRAPHY,
        "GET /v1/subdistricts": READ_GEOGRAPHY,
        "GET /v1/reference": READ_GEOGRAPHY,
        "POST /v1/teams": MANAGE_TEAMS,
        "GET /v1/teams": READ_RECORDS,
        "GET /v1/teams/{team_id}": READ_RECORDS,
        "GET /v1/teams/{team_id}/personal-data-reads": allow("admin"),
        "PUT /v1/teams/{team_id}/members/{role}": MANAGE_TEAMS,
        "DELETE /v1/teams/{team_id}/members/{role}": MANAGE_TEAMS,
        "GET /v1/districts/{code}/villages": READ_RECORDS,
        "PUT /v1/districts/{code}/villages/{fiscal_year}/{subdistrict_code}": MANAGE_TEAMS,
        "DELETE /v1/districts/{code}/villages/{fiscal_year}/{subdistrict_code}": MANAGE_TEAMS,
    },
    "reporting": {
        **COMMON,
        "GET /v1/reports": READ_RECORDS,
        "POST /v1/reports": WRITE_REPORTS,
        "GET /v1/reports.csv": READ_RECORDS,
        "POST /v1/reports:bulk": WRITE_REPORTS,
        "GET /v1/reports:counts": allow("admin", "national_viewer", "monitor"),  # reconcile
        "GET /v1/reports/{report_id}": READ_RECORDS,
        "PUT /v1/reports/{report_id}": WRITE_REPORTS,
        "DELETE /v1/reports/{report_id}": WRITE_REPORTS,
        "GET /v1/reports/{report_id}/history": READ_RECORDS,
        "GET /v1/outbox": OPERATIONS,
    },
    "aggregator": {
        **COMMON,
        # Anonymous callers reach national totals only where WARROOM_PUBLIC_NATIONAL_TOTALS is on.
        "GET /v1/totals": allow(*EVERY_ROLE, anonymous=True),
        "GET /v1/totals/breakdown": READ_TOTALS,
        "GET /v1/completeness": READ_TOTALS,
        "GET /v1/completeness/villages": READ_TOTALS,
        "GET /v1/deadlines": READ_TOTALS,
        "PUT /v1/deadlines/{fiscal_year}/{quarter}": allow("admin"),
        "GET /v1/stream": READ_TOTALS,
        "GET /v1/consumer": OPERATIONS,
        "GET /v1/dead-letters": allow("admin"),
    },
}

RETRACTION = {"reason": "ซ้ำกับรายงานเดิม", "retracted_by": {"name": "ก", "position": "ข"}}
PERIOD = {"fiscal_year": "2568", "quarter": "2"}

CASES: dict[str, dict[str, list[Case]]] = {
    "registry": {
        "GET /healthz": [Case(call("GET", "/healthz"))],
        "GET /readyz": [Case(call("GET", "/readyz"))],
        "GET /metrics": [Case(call("GET", "/metrics"))],
        "GET /asyncapi.json": [Case(call("GET", "/asyncapi.json"))],
        "GET /v1/provinces": [Case(call("GET", "/v1/provinces"))],
        "GET /v1/provinces/{code}": [Case(call("GET", "/v1/provinces/{province}"))],
        "GET /v1/districts": [Case(call("GET", "/v1/districts"))],
        "GET /v1/districts/{code}": [Case(call("GET", "/v1/districts/{district}"))],
        "GET /v1/subdistricts": [
            Case(call("GET", "/v1/subdistricts", params={"district": "{district}"}))
        ],
        "GET /v1/reference": [Case(call("GET", "/v1/reference"))],
        "POST /v1/teams": [Case(_new_team, "district", ok=201)],
        "GET /v1/teams": [
            Case(call("GET", "/v1/teams", params={"district": "{district}"}), "district"),
            Case(call("GET", "/v1/teams", params={"province": "{province}"}), "province"),
        ],
        "GET /v1/teams/{team_id}": [Case(_read_team, "district", denied=404)],
        "GET /v1/teams/{team_id}/personal-data-reads": [Case(_team_audit)],
        "PUT /v1/teams/{team_id}/members/{role}": [Case(_assign, "district", denied=404)],
        "DELETE /v1/teams/{team_id}/members/{role}": [Case(_unassign, "district", denied=404)],
        "GET /v1/districts/{code}/villages": [
            Case(call("GET", "/v1/districts/{district}/villages"), "district")
        ],
        "PUT /v1/districts/{code}/villages/{fiscal_year}/{subdistrict_code}": [
            Case(_designate, "district")
        ],
        "DELETE /v1/districts/{code}/villages/{fiscal_year}/{subdistrict_code}": [
            Case(_undesignate, "district", ok=204)
        ],
    },
    "reporting": {
        "GET /healthz": [Case(call("GET", "/healthz"))],
        "GET /readyz": [Case(call("GET", "/readyz"))],
        "GET /metrics": [Case(call("GET", "/metrics"))],
        "GET /asyncapi.json": [Case(call("GET", "/asyncapi.json"))],
        "POST /v1/reports": [Case(_submit, "district", ok=201)],
        "GET /v1/reports/{report_id}": [Case(_on_report("GET"), "district", denied=404)],
        "PUT /v1/reports/{report_id}": [Case(_amend, "district", denied=404)],
        "DELETE /v1/reports/{report_id}": [
            Case(_on_report("DELETE", json=RETRACTION), "district", denied=404)
        ],
        "GET /v1/reports/{report_id}/history": [
            Case(_on_report("GET", "/history"), "district", denied=404)
        ],
        "GET /v1/reports": [
            Case(call("GET", "/v1/reports", params={"district": "{district}"}), "district"),
            Case(call("GET", "/v1/reports", params={"province": "{province}"}), "province"),
        ],
        "GET /v1/reports.csv": [
            Case(call("GET", "/v1/reports.csv", params={"district": "{district}"}), "district")
        ],
        # One bad line never sinks a request: an out-of-area line is refused in a 200 answer.
        "POST /v1/reports:bulk": [Case(_bulk, "district", denied=200)],
        "GET /v1/reports:counts": [Case(call("GET", "/v1/reports:counts", params=PERIOD))],
        "GET /v1/outbox": [Case(call("GET", "/v1/outbox"))],
    },
    "aggregator": {
        "GET /healthz": [Case(call("GET", "/healthz"))],
        "GET /readyz": [Case(call("GET", "/readyz"))],
        "GET /metrics": [Case(call("GET", "/metrics"))],
        "GET /asyncapi.json": [Case(call("GET", "/asyncapi.json"))],
        "GET /v1/totals": [
            # no scope: the nation, or an officer's own area
            Case(call("GET", "/v1/totals")),
            Case(call("GET", "/v1/totals", params={"scope": "national"}), "national"),
            Case(
                call("GET", "/v1/totals", params={"scope": "province", "code": "{province}"}),
                "province",
            ),
            Case(
                call("GET", "/v1/totals", params={"scope": "district", "code": "{district}"}),
                "district",
            ),
        ],
        "GET /v1/totals/breakdown": [
            Case(call("GET", "/v1/totals/breakdown", params={"by": "quarter"})),
            # with no scope, by=province breaks down the nation: never an officer's area
            Case(call("GET", "/v1/totals/breakdown", params={"by": "province"}), "national"),
            Case(
                call(
                    "GET",
                    "/v1/totals/breakdown",
                    params={"by": "district", "scope": "province", "code": "{province}"},
                ),
                "province",
            ),
            Case(
                call(
                    "GET",
                    "/v1/totals/breakdown",
                    params={"by": "quarter", "scope": "district", "code": "{district}"},
                ),
                "district",
            ),
        ],
        "GET /v1/completeness": [
            Case(call("GET", "/v1/completeness", params=PERIOD)),
            Case(
                call("GET", "/v1/completeness", params={**PERIOD, "province": "{province}"}),
                "province",
            ),
            Case(
                call("GET", "/v1/completeness", params={**PERIOD, "district": "{district}"}),
                "district",
            ),
        ],
        "GET /v1/completeness/villages": [
            # no place named: the nation, or an officer's own area
            Case(call("GET", "/v1/completeness/villages", params=PERIOD)),
            Case(
                call(
                    "GET", "/v1/completeness/villages", params={**PERIOD, "province": "{province}"}
                ),
                "province",
            ),
            Case(
                call(
                    "GET", "/v1/completeness/villages", params={**PERIOD, "district": "{district}"}
                ),
                "district",
            ),
        ],
        "GET /v1/deadlines": [Case(call("GET", "/v1/deadlines", params={"fiscal_year": "2568"}))],
        "PUT /v1/deadlines/{fiscal_year}/{quarter}": [
            Case(call("PUT", "/v1/deadlines/2568/2", json={"due_on": "2025-04-15"}))
        ],
        "GET /v1/stream": [Case(call("GET", "/v1/stream"))],
        "GET /v1/consumer": [Case(call("GET", "/v1/consumer"))],
        "GET /v1/dead-letters": [Case(call("GET", "/v1/dead-letters"))],
    },
}


def reaches(role: AccessRole, level: Level, inside: bool) -> bool:
    """Whether a holder of `role` reaches a place of `level` (written apart from the code)."""
    if role in (AccessRole.ADMIN, AccessRole.NATIONAL_VIEWER, AccessRole.MONITOR):
        return True
    if level == "none":
        return True
    if level == "national" or not inside:
        return False
    return level == "district" or role is AccessRole.PROVINCE_OFFICER


def expected(rule: dict[str, Any], role: AccessRole | None, case: Case, inside: bool) -> int:
    """The answer the pinned `rule` (from `ACCESS`) calls for."""
    if rule["public"]:
        return case.ok
    if role is None:
        return 401
    if role.value not in rule["roles"]:
        return 403
    return case.ok if reaches(role, case.level, inside) else case.denied


def operations(app: FastAPI) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": op
        for path, item in app.openapi()["paths"].items()
        for method, op in item.items()
    }


async def answer(client: httpx.AsyncClient, c: Call, headers: dict[str, str]) -> httpx.Response:
    """Status and headers only: a live stream's body never ends."""
    request = client.build_request(
        c.method, c.path, params=c.params, json=c.json, content=c.content,
        headers={**(c.headers or {}), **headers},
    )  # fmt: skip
    response = await client.send(request, stream=True)
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        await response.aclose()
    else:
        await response.aread()
    return response


@pytest.fixture
def apps_without_lifespan(platform: Platform) -> dict[str, FastAPI]:
    return {
        "registry": create_registry(platform.registry),
        "reporting": create_reporting(platform.reporting),
        "aggregator": create_aggregator(platform.aggregator),
    }


@pytest.fixture
async def world(platform: Platform) -> AsyncIterator[tuple[World, dict[str, FastAPI]]]:
    apps = {
        "registry": create_registry(platform.registry),
        "reporting": create_reporting(platform.reporting),
        "aggregator": create_aggregator(platform.aggregator),
    }
    async with (
        live_server(apps["registry"]) as registry_url,
        live_server(apps["reporting"]) as reporting_url,
        live_server(apps["aggregator"]) as aggregator_url,
    ):
        scene = World(
            {"registry": registry_url, "reporting": reporting_url, "aggregator": aggregator_url}
        )
        await _directory_loaded(scene)
        try:
            yield scene, apps
        finally:
            await scene.close()


async def _directory_loaded(world: World) -> None:
    """Reporting and the aggregator read the district directory from KV before they judge."""
    for _ in range(200):
        probe = await world.admin["aggregator"].get("/v1/completeness", params=PERIOD)
        if probe.status_code == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the district directory did not load")


@pytest.mark.parametrize("service", list(ACCESS))
def test_openapi_access_rules_are_the_readmes_role_table(
    service: str, apps_without_lifespan: dict[str, FastAPI]
) -> None:
    documented = {
        name: op.get("x-warroom-access")
        for name, op in operations(apps_without_lifespan[service]).items()
    }
    wrong = {
        name: {"openapi": documented.get(name), "readme": ACCESS[service].get(name)}
        for name in documented.keys() | ACCESS[service].keys()
        if documented.get(name) != ACCESS[service].get(name)
    }
    assert wrong == {}


@pytest.mark.parametrize("service", list(CASES))
async def test_every_operation_answers_each_role_by_its_rule_and_area(
    service: str, world: tuple[World, dict[str, FastAPI]], tmp_path: Any
) -> None:
    scene, apps = world
    ops = operations(apps[service])
    cases = CASES[service]
    assert sorted(ops) == sorted(cases), "every operation needs a case here, and only those"
    stranger = DevKeys(tmp_path / "stranger").ensure()
    bad_tokens = {
        "stranger's key": stranger.mint(AccessRole.ADMIN),
        "expired": token(ttl=dt.timedelta(minutes=-5)),
    }
    wrong: list[str] = []
    async with httpx.AsyncClient(base_url=scene.urls[service], timeout=10) as client:
        for name in ops:
            rule = ACCESS[service][name]
            for case, inside in itertools.product(cases[name], (True, False)):
                place = INSIDE if inside else OUTSIDE
                roles: list[AccessRole | None] = [None, *AccessRole]
                for role in roles:
                    bearer = token(role, AREAS.get(role)) if role is not None else None
                    headers = {} if bearer is None else {"Authorization": f"Bearer {bearer}"}
                    got = await answer(client, await case.build(scene, place), headers)
                    want = expected(rule, role, case, inside)
                    if got.status_code != want:
                        wrong.append(
                            f"{name} as {role or 'anonymous'} on {place['district']}: "
                            f"{got.status_code}, want {want}: {got.text[:160]}"
                        )
                    if (
                        got.status_code == 401
                        and "bearer" not in got.headers.get("www-authenticate", "").lower()
                    ):
                        wrong.append(f"{name}: a 401 without WWW-Authenticate: Bearer")
            if not rule["public"]:
                for what, bad in bad_tokens.items():
                    c = await cases[name][0].build(scene, INSIDE)
                    got = await answer(client, c, {"Authorization": f"Bearer {bad}"})
                    if got.status_code != 401 or "invalid_token" not in got.headers.get(
                        "www-authenticate", ""
                    ):
                        wrong.append(f"{name} with a token ({what}): {got.status_code}")
    assert wrong == [], "\n".join(wrong)
