"""`warroom demo`: a realistic, reproducible data set, loaded through the platform's public APIs.

Every programme district gets its team for the current fiscal year, a share of them their
Sustainable Villages, and the quarter gets its reports (content and ids drawn from the seed and
each report's index; only those dated up to today are sent). A few districts never report, a
few report only the quarter before, after its deadline. Running it again adds only what is new.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import typer

from warroom_cli import demo_data
from warroom_cli.auth import DataDirSettings, TokenOption, bearer
from warroom_cli.demo_data import Cast, Place
from warroom_cli.errors import Failure, http_failure
from warroom_cli.platform import PlatformSettings
from warroom_cli.reporting import RETRIES, _retry_after, post_chunk, refusal
from warroom_shared.fiscal import FiscalPeriod, current_period, today_bangkok
from warroom_shared.security.principal import AccessRole
from warroom_shared.security.tokens import DevKeys

REGISTRY_PARALLEL = 16  # districts set up at once
CHUNK = 5_000  # reports a bulk request
CHUNKS_PARALLEL = 2
DESIGNATION_WAIT = 30.0  # seconds a Sustainable Village report waits for its village to be known
ROLES = "admin"  # a given token's: a district officer's may write only its own district
SOME_REFUSED = 1  # the exit code when the services refused some of the data


@dataclass(frozen=True)
class Api:
    """One service: its name (for messages) and a client of it."""

    name: str
    client: httpx.Client

    def call(
        self, method: str, path: str, expect: tuple[int, ...] = (200,), **kw: Any
    ) -> httpx.Response:
        """The answer, once it is not 429 or 503 (sent again after its Retry-After); another
        status than those expected fails in one line naming the service and the request."""
        try:
            r = self.client.request(method, path, **kw)
            for _ in range(RETRIES):
                if r.status_code not in (429, 503):
                    break
                time.sleep(_retry_after(r))
                r = self.client.request(method, path, **kw)
            if r.status_code not in expect:
                raise httpx.HTTPStatusError("unexpected", request=r.request, response=r)
        except httpx.HTTPError as exc:
            raise http_failure(exc, f"the {self.name}", ROLES) from None
        return r


def demo(
    reports: Annotated[
        int,
        typer.Option(
            min=0,
            max=1_000_000,
            help="Reports of the whole quarter (those dated up to today are sent)",
        ),
    ] = 30_000,
    seed: Annotated[int, typer.Option(help="Another seed, another data set")] = 1,
    districts: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Only this many of the programme's districts, "
            "drawn over the provinces (a quick try)",
        ),
    ] = None,
    registry_url: Annotated[str | None, typer.Option(help="Default: warroom up's")] = None,
    reporting_url: Annotated[str | None, typer.Option(help="Default: warroom up's")] = None,
    aggregator_url: Annotated[str | None, typer.Option(help="Default: warroom up's")] = None,
    token: TokenOption = None,
) -> None:
    """Load a realistic demo data set (teams, villages, a quarter of reports) into the running
    platform; running it again adds only reports whose day has come."""
    started = time.monotonic()
    urls = _urls(registry_url, reporting_url, aggregator_url)
    admin = bearer(token)
    officer = _officers(token, admin)
    with (
        _client(urls[0], admin) as registry,
        _client(urls[1], admin) as reporting,
        _client(urls[2], admin) as aggregator,
    ):
        lines = load(Api("registry", registry), Api("reporting service", reporting),
                     Api("aggregator", aggregator), officer, reports, seed,
                     districts)  # fmt: skip
    for line in lines:
        typer.echo(line)
    typer.echo(f"loaded in {time.monotonic() - started:.1f} s")


def _urls(*given: str | None) -> list[str]:
    settings = PlatformSettings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    names = ("registry", "reporting", "aggregator")
    return [
        url or f"http://{host}:{settings.service_port(n)}"
        for url, n in zip(given, names, strict=True)
    ]


def _officers(token: str | None, admin: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """The headers a district's own requests carry: on the embedded default each district's
    officer signs in with a token of its own (as each district office would, and each within
    its own rate limit); with a given token, that one."""
    if token is not None:
        return lambda _: admin
    keys = DevKeys(DataDirSettings().data_dir / "auth")

    @functools.cache
    def officer(code: str) -> dict[str, str]:
        minted = keys.mint(AccessRole.DISTRICT_OFFICER, code, subject=f"demo-officer-{code}",
                           ttl=dt.timedelta(hours=1))  # fmt: skip
        return {"Authorization": f"Bearer {minted}"}

    return officer


def _client(url: str, headers: dict[str, str]) -> httpx.Client:
    limits = httpx.Limits(max_connections=REGISTRY_PARALLEL)
    return httpx.Client(base_url=url, headers=headers, timeout=120, limits=limits)


def load(
    registry: Api,
    reporting: Api,
    aggregator: Api,
    officer: Callable[[str], dict[str, str]],
    size: int,
    seed: int,
    limit: int | None,
) -> list[str]:
    """Teams and villages, then reports; lines saying what was loaded."""
    period = current_period()
    started = time.monotonic()
    places = _places(registry, officer, seed, limit)
    designated = {p.code: demo_data.villages(seed, period.year, p) for p in places}
    tally: Counter[str] = Counter()
    with ThreadPoolExecutor(REGISTRY_PARALLEL) as pool:
        for counts in pool.map(lambda p: _district(registry, officer, seed, period, p), places):
            tally.update(counts)
    registered = time.monotonic()
    cast = demo_data.cast_of(seed, places, limited=limit is not None)
    late = _late_period(aggregator, period)
    bodies, due = _reports(cast, period, size, designated, late)
    tally.update(_post(reporting, bodies))
    late_part = f"; {len(bodies) - due} late ones of {late}" if late else ""
    return [
        f"{period} (seed {seed}), {len(places)} districts of the programme:",
        *(f"  {what:<9} {tally[what]:,} created, {tally[what + '_there']:,} already there"
          for what in ("teams", "members", "villages")),
        f"  reports   {tally['reports']:,} created, {tally['reports_there']:,} already there "
        f"({due:,} of the quarter's {size:,} dated up to today{late_part})",
        f"registry {registered - started:.1f} s, reports {time.monotonic() - registered:.1f} s",
    ]  # fmt: skip


def _places(
    registry: Api, officer: Callable[[str], dict[str, str]], seed: int, limit: int | None
) -> list[Place]:
    """The programme's districts (all, or `limit` of them drawn by the seed), each with its
    subdistricts."""
    districts = registry.call("GET", "/v1/districts", params={"in_programme": "true"}).json()
    if not districts:
        raise Failure("the registry lists no district in the programme")
    if limit is not None and limit < len(districts):
        districts = demo_data.drawn(seed, districts, limit)

    def place(d: dict[str, Any]) -> Place:
        subs = registry.call("GET", "/v1/subdistricts", params={"district": d["code"]},
                             headers=officer(d["code"])).json()  # fmt: skip
        return Place(d["code"], d["province_code"], d["name_th"],
                     tuple((s["code"], s["name_th"]) for s in subs))  # fmt: skip

    with ThreadPoolExecutor(REGISTRY_PARALLEL) as pool:
        return sorted(pool.map(place, districts), key=lambda p: p.code)


def _district(
    registry: Api,
    officer: Callable[[str], dict[str, str]],
    seed: int,
    period: FiscalPeriod,
    place: Place,
) -> Counter[str]:
    """The district's team and members, and its designated villages, written where they
    differ from what the registry has."""
    headers, tally = officer(place.code), Counter[str]()
    body = {"district_code": place.code, "fiscal_year": period.year}
    r = registry.call("POST", "/v1/teams", (201, 409), json=body, headers=headers)
    if r.status_code == 409:
        r = registry.call("GET", f"/v1/teams/{r.json()['error']['team_id']}", headers=headers)
    tally["teams" if r.status_code == 201 else "teams_there"] += 1
    team, etag = r.json(), r.headers["ETag"]
    held = {m["role"]: {k: m[k] for k in ("name", "position", "organisation")}
            for m in team["members"]}  # fmt: skip
    for role, member in demo_data.members(seed, period.year, place).items():
        if held.get(role) == member:
            tally["members_there"] += 1
            continue
        r = registry.call("PUT", f"/v1/teams/{team['id']}/members/{role}", json=member,
                          headers={**headers, "If-Match": etag})  # fmt: skip
        etag = r.headers["ETag"]
        tally["members"] += 1
    tally.update(_villages(registry, headers, seed, period, place))
    return tally


def _villages(
    registry: Api, headers: dict[str, str], seed: int, period: FiscalPeriod, place: Place
) -> Counter[str]:
    wanted = demo_data.villages(seed, period.year, place)
    tally = Counter[str]()
    if not wanted:
        return tally
    path = f"/v1/districts/{place.code}/villages"
    found = registry.call("GET", path, params={"fiscal_year": period.year}, headers=headers)
    have = {v["subdistrict_code"]: {"village_no": v["village_no"], "name": v["name"]}
            for v in found.json()}  # fmt: skip
    for sub, village in wanted.items():
        if have.get(sub) == village:
            tally["villages_there"] += 1
            continue
        registry.call("PUT", f"{path}/{period.year}/{sub}", json=village, headers=headers)
        tally["villages"] += 1
    return tally


def _late_period(aggregator: Api, period: FiscalPeriod) -> FiscalPeriod | None:
    """The latest quarter before this one whose deadline has passed (the previous quarter,
    once its deadline is behind us)."""
    today = today_bangkok()
    for _ in range(4):
        year, quarter = (
            (period.year, period.quarter - 1) if period.quarter > 1 else (period.year - 1, 4)
        )
        period = FiscalPeriod(year, quarter)
        deadlines = aggregator.call("GET", "/v1/deadlines", params={"fiscal_year": year}).json()
        due = next(d["due_on"] for d in deadlines if d["quarter"] == quarter)
        if dt.date.fromisoformat(due) < today:
            return period
    return None


def _reports(
    cast: Cast,
    period: FiscalPeriod,
    size: int,
    designated: dict[str, dict[str, dict[str, Any]]],
    late: FiscalPeriod | None,
) -> tuple[list[bytes], int]:
    """The quarter's reports dated up to today, then the late ones; and how many are the
    quarter's."""
    today = today_bangkok().isoformat()
    quarter = [demo_data.quarter_report(cast, period, i, designated) for i in range(size)]
    due = [r for r in quarter if r["activity_date"] <= today]
    extra = demo_data.late_reports(cast, late) if late else []
    return [json.dumps(r, ensure_ascii=False).encode() for r in due + extra], len(due)


def _post(reporting: Api, lines: list[bytes]) -> Counter[str]:
    """Send the lines in bulk; lines refused only because the reporting service does not know
    their village yet (the registry's directory entry is on its way) go again a moment later."""
    tally = Counter[str]()
    deadline = time.monotonic() + DESIGNATION_WAIT
    while lines:
        waiting: list[tuple[bytes, dict[str, Any]]] = []
        refused: list[tuple[bytes, dict[str, Any]]] = []
        for chunk, answer in _answers(reporting, lines):
            tally["reports"] += answer["created"]
            tally["reports_there"] += answer["duplicate"]
            for result in answer["results"]:
                if result["status"] in ("conflict", "refused"):
                    line = chunk[result["line"] - 1]
                    types = {f["type"] for f in result.get("fields", [])}
                    (waiting if types == {"not_designated"} else refused).append((line, result))
        if refused:
            line, result = refused[0]
            first = f"{json.loads(line)['report_id']}: {refusal(result)}"
            raise Failure(f"the reporting service refused {len(refused)} reports, the first "
                          f"{first}", SOME_REFUSED)  # fmt: skip
        if waiting and time.monotonic() > deadline:
            unknown = f"{len(waiting)} Sustainable Village reports name villages"
            raise Failure(f"{unknown} the reporting service does not know as designated",
                          SOME_REFUSED)  # fmt: skip
        lines = [line for line, _ in waiting]
        if lines:
            time.sleep(0.5)
    return tally


def _answers(reporting: Api, lines: list[bytes]) -> Iterator[tuple[list[bytes], dict[str, Any]]]:
    chunks = [lines[i : i + CHUNK] for i in range(0, len(lines), CHUNK)]

    def send(chunk: list[bytes]) -> tuple[list[bytes], dict[str, Any]]:
        try:
            r = post_chunk(reporting.client, b"\n".join(chunk))
            r.raise_for_status()
        except httpx.HTTPError as exc:
            raise http_failure(exc, f"the {reporting.name}", ROLES) from None
        return chunk, r.json()

    with ThreadPoolExecutor(CHUNKS_PARALLEL) as pool:
        yield from pool.map(send, chunks)
