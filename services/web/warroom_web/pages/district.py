"""The district page's own sections, read with the user's token: its team's 10 roles (filled
or missing), its designated Sustainable Villages (registry) and its latest reports
(reporting)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from warroom_shared.domain import (
    DIMENSION_LABELS,
    ROLE_LABELS,
    SECTOR_LABELS,
    STAGE_LABELS,
    Label,
)
from warroom_web.upstream import Upstream

LATEST = 10  # the district's reports shown
MEMBER_FIELDS = ("name", "position", "organisation", "phone", "email")


def _by_code(labels: Mapping[Any, Label]) -> dict[str, Label]:
    return {str(code): label for code, label in labels.items()}


ROLES = _by_code({role: label for role, (label, _) in ROLE_LABELS.items()})
SECTORS, STAGES = _by_code(SECTOR_LABELS), _by_code(STAGE_LABELS)
DIMENSIONS = _by_code(DIMENSION_LABELS)


def calls(upstream: Upstream, token: str, code: str, fy: int, q: int) -> dict[str, Any]:
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


def named(section: str, data: Any, subdistricts: list[dict[str, Any]]) -> Any:
    """The district's villages or reports as the page shows them: subdistricts named (Thai, and
    English where the geography has it), a report's dimensions and stages labelled."""
    names = {s["code"]: s for s in subdistricts}

    def place(code: str | None) -> dict[str, Any]:
        found = names.get(code or "", {})
        return {"subdistrict_code": code, "subdistrict_th": found.get("name_th"),
                "subdistrict_en": found.get("name_en") or None}  # fmt: skip

    if section == "villages":
        return [{**place(v["subdistrict_code"]), "village_no": v["village_no"], "name": v["name"]}
                for v in data]  # fmt: skip
    return {"items": [_report_row(r, place) for r in data["items"]],
            "more": data["next_cursor"] is not None}  # fmt: skip


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
