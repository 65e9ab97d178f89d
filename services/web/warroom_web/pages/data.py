"""What an area's page shows, read with the user's token, all at once: figures from the
aggregator; for a district also its team and designated villages (registry) and its latest
reports (reporting).

Each section either holds the API's answer or says which service did not answer; the page draws
a message for that section, never a blank chart."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from warroom_web import geo
from warroom_web.pages import district
from warroom_web.upstream import Refused, ServiceName, Unavailable, Upstream

Scope = Literal["national", "province", "district"]


@dataclass(frozen=True)
class Section:
    data: Any = None
    unavailable: ServiceName | None = None
    refused: str | None = None  # the service's error code: not for this user's role


@dataclass(frozen=True)
class Area:
    scope: Scope
    code: str | None
    fiscal_year: int
    quarter: int
    sections: dict[str, Section] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        """The page's JSON twin (`?format=json`)."""
        return {
            "scope": self.scope, "code": self.code, "fiscal_year": self.fiscal_year,
            "quarter": self.quarter,
            "sections": {name: {"unavailable": section.unavailable} if section.unavailable
                         else {"refused": section.refused} if section.refused else section.data
                         for name, section in self.sections.items()},
        }  # fmt: skip


BREAKDOWNS = ("stage", "dimension", "programme", "month")
DISTRICT_SECTIONS = ("team", "villages", "reports")  # a refusal is said, not left out


async def read_area(
    upstream: Upstream, token: str | None, scope: Scope, code: str | None, fy: int, q: int
) -> Area:
    """Every section of the page; `Refused` if the aggregator refuses the area itself."""
    period = {"scope": scope, "code": code, "fiscal_year": fy, "quarter": q}
    calls: dict[str, Any] = {"totals": upstream.get("aggregator", "/v1/totals", token, **period)}
    if token is not None:  # the rest needs a signed-in user (the headline may be public)
        for by in BREAKDOWNS:
            calls[by] = upstream.get("aggregator", "/v1/totals/breakdown", token, by=by, **period)
        places = {"national": "province", "province": "district"}.get(scope)
        if places is not None:
            calls["places"] = upstream.get(
                "aggregator", "/v1/totals/breakdown", token, by=places, **period
            )
        calls["completeness"] = upstream.get(
            "aggregator", "/v1/completeness", token, fiscal_year=fy, quarter=q,
            province=code if scope == "province" else None,
            district=code if scope == "district" else None,
        )  # fmt: skip
        if scope == "district" and code is not None:
            calls |= district.calls(upstream, token, code, fy, q)
    answers = await asyncio.gather(*calls.values(), return_exceptions=True)
    sections = {}
    for name, answer in zip(calls, answers, strict=True):
        if isinstance(answer, Refused):
            if name == "totals":
                raise answer
            if name in DISTRICT_SECTIONS:
                sections[name] = Section(refused=answer.code)
            continue  # not for this user: the page leaves the section out
        elif isinstance(answer, Unavailable):
            sections[name] = Section(unavailable=answer.service)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            sections[name] = Section(answer)
    if scope == "district":
        subdistricts = sections.pop("subdistricts", Section()).data or []
        for name in ("villages", "reports"):
            if name in sections and sections[name].data is not None:
                sections[name] = Section(district.named(name, sections[name].data, subdistricts))
    return Area(scope, code, fy, q, sections)


def map_rows(
    area: Area, places: dict[str, Any], completeness: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The choropleth's rows: reports per place, and per district of the programme in it (the
    aggregator's own counts divided by the programme's districts it lists); a place of the map
    the aggregator does not list (outside the programme: Bangkok's khet) shows no report."""
    in_programme: dict[str, int] = {}
    key = "province_code" if places["by"] == "province" else "code"
    for status in (completeness or {}).get("statuses", []):
        in_programme[status[key]] = in_programme.get(status[key], 0) + 1
    listed = {row["key"] for row in places["rows"]}
    every = geo.provinces() if area.scope == "national" else geo.districts_of(area.code or "")
    unlisted = [{"key": p["code"], "name_th": p["name_th"], "name_en": p["name_en"], "reports": 0}
                for p in every if p["code"] not in listed]  # fmt: skip
    rows = []
    for row in sorted([*places["rows"], *unlisted], key=lambda r: str(r["key"])):
        districts = in_programme.get(row["key"], 0)
        per = round(row["reports"] / districts, 1) if districts else None
        rows.append({"code": row["key"], "name_th": row["name_th"], "name_en": row["name_en"],
                     "reports": row["reports"], "districts": districts,
                     "per_district": per})  # fmt: skip
    return rows
