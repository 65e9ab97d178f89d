"""What an area's page shows, read with the user's token, all at once: figures from the
aggregator; for a district also its team and designated villages (registry) and its latest
reports (reporting).

Each section either holds the API's answer or says which service did not answer; the page draws
a message for that section, never a blank chart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from warroom_shared.domain import (
    DIMENSION_LABELS,
    ROLE_LABELS,
    SECTOR_LABELS,
    STAGE_LABELS,
    Label,
)
from warroom_web import geo
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
LATEST = 10  # the district's reports shown
MEMBER_FIELDS = ("name", "position", "organisation", "phone", "email")


def _by_code(labels: Mapping[Any, Label]) -> dict[str, Label]:
    return {str(code): label for code, label in labels.items()}


ROLES = _by_code({role: label for role, (label, _) in ROLE_LABELS.items()})
SECTORS, STAGES = _by_code(SECTOR_LABELS), _by_code(STAGE_LABELS)
DIMENSIONS = _by_code(DIMENSION_LABELS)


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
            calls |= _district_calls(upstream, token, code, fy, q)
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
        _name_places(sections, sections.pop("subdistricts", Section()).data or [])
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


def _district_calls(upstream: Upstream, token: str, code: str, fy: int, q: int) -> dict[str, Any]:
    """The registry's team and villages of the fiscal year, the names of the district's
    subdistricts, and reporting's newest reports of the quarter."""

    async def team() -> dict[str, Any]:
        found = await upstream.get("registry", "/v1/teams", token, district=code, fiscal_year=fy)
        held = None  # a district with no team registered yet: every role missing
        if found["items"]:
            held = await upstream.get("registry", f"/v1/teams/{found['items'][0]['id']}", token)
        return team_roles(held)

    return {
        "team": team(),
        "villages": upstream.get(
            "registry", f"/v1/districts/{code}/villages", token, fiscal_year=fy
        ),
        "subdistricts": upstream.get("registry", "/v1/subdistricts", token, district=code),
        "reports": upstream.get(
            "reporting", "/v1/reports", token, district=code, fiscal_year=fy, quarter=q,
            limit=LATEST,
        ),
    }  # fmt: skip


def _labelled(labels: Mapping[str, Label], code: str) -> dict[str, str]:
    """A code with its Thai and English label (a code this site does not know yet: itself)."""
    label = labels.get(code, Label(code, code))
    return {"code": code, "th": label.th, "en": label.en}


def team_roles(team: dict[str, Any] | None) -> dict[str, Any]:
    """The 10 roles in the programme's order, each with its holder or none. Names, phones and
    e-mails are there only when the registry gave them to this user."""
    members = {m["role"]: m for m in (team or {}).get("members", [])}
    roles = []
    for role, (_, default_sector) in ROLE_LABELS.items():
        held = members.get(role)
        member = {k: held.get(k) for k in MEMBER_FIELDS} if held else None
        sector = held["sector"] if held else default_sector
        roles.append({"role": _labelled(ROLES, role), "sector": _labelled(SECTORS, sector),
                      "member": member})  # fmt: skip
    filled = team["completeness"]["roles_filled"] if team else 0
    return {"registered": team is not None, "roles_filled": filled, "roles": roles}


def _name_places(sections: dict[str, Section], subdistricts: list[dict[str, Any]]) -> None:
    """Villages and reports as the page shows them: subdistricts named (Thai, and English where
    the geography has it), a report's dimensions and stages labelled."""
    names = {s["code"]: s for s in subdistricts}

    def place(code: str | None) -> dict[str, Any]:
        found = names.get(code or "", {})
        return {"subdistrict_code": code, "subdistrict_th": found.get("name_th"),
                "subdistrict_en": found.get("name_en") or None}  # fmt: skip

    villages = sections.get("villages")
    if villages is not None and villages.data is not None:
        sections["villages"] = Section([
            {**place(v["subdistrict_code"]), "village_no": v["village_no"], "name": v["name"]}
            for v in villages.data
        ])  # fmt: skip
    reports = sections.get("reports")
    if reports is not None and reports.data is not None:
        page = reports.data
        sections["reports"] = Section(
            {"items": [_report_row(r, place) for r in page["items"]],
             "more": page["next_cursor"] is not None}
        )  # fmt: skip


def _report_row(report: dict[str, Any], place: Callable[[str | None], Any]) -> dict[str, Any]:
    return {
        "report_id": report["report_id"], "activity_date": report["activity_date"],
        "title": report["title"], "programme": report["programme"],
        **place(report.get("subdistrict_code")), "village_no": report.get("village_no"),
        "dimensions": [_labelled(DIMENSIONS, d) for d in report["dimensions"]],
        "stages": [_labelled(STAGES, s) for s in report["stages"]],
        "participants": report["participants"],
        # the report's own 7 sectors, added up
        "participants_total": sum(report["participants"].values()),
    }  # fmt: skip
