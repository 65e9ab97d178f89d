"""District teams. Writes take `If-Match` with the team's ETag; a stale one gets 412."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel

from warroom_registry import teams
from warroom_registry.api.deps import ConnDep, GeoDep
from warroom_registry.teams import MemberAssign, Team, TeamCreate, TeamSummary
from warroom_shared.domain import Role
from warroom_shared.http import Problem

router = APIRouter(prefix="/v1/teams", tags=["teams"])

IfMatch = Annotated[str | None, Header(description="The team's ETag, from a previous read")]


class TeamPage(BaseModel):
    items: list[TeamSummary]
    next_cursor: str | None


def _with_etag(response: Response, team: Team) -> Team:
    response.headers["ETag"] = teams.etag(team.version)
    return team


@router.post("", status_code=201)
async def create_team(body: TeamCreate, conn: ConnDep, geo: GeoDep, response: Response) -> Team:
    """Create the team of a district for a fiscal year (409 if it already has one)."""
    district = geo.districts.get(body.district_code)
    if district is None:
        raise Problem(404, "district_not_found", f"No district {body.district_code}.")
    team = await teams.create_team(conn, district.code, district.province_code, body.fiscal_year)
    response.headers["Location"] = f"/v1/teams/{team.id}"
    return _with_etag(response, team)


@router.get("")
async def list_teams(
    conn: ConnDep,
    geo: GeoDep,
    district: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
    province: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    fiscal_year: Annotated[int | None, Query(ge=2560, le=2700)] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TeamPage:
    """Teams with their completeness, filtered by district, province and fiscal year."""
    if district is not None and district not in geo.districts:
        raise Problem(404, "district_not_found", f"No district {district}.")
    if province is not None and province not in geo.provinces:
        raise Problem(404, "province_not_found", f"No province {province}.")
    filters = {"district_code": district, "province_code": province, "fiscal_year": fiscal_year}
    items = await teams.list_teams(conn, filters, cursor, limit)
    last = items[-1] if len(items) == limit else None
    return TeamPage(
        items=items, next_cursor=f"{last.district_code}:{last.fiscal_year}" if last else None
    )


@router.get("/{team_id}")
async def get_team(team_id: uuid.UUID, conn: ConnDep, response: Response) -> Team:
    """One team with its members and completeness; the ETag is what a write must send back."""
    team = await teams.read_team(conn, team_id)
    if team is None:
        raise Problem(404, "team_not_found", f"No team {team_id}.")
    return _with_etag(response, team)


@router.put("/{team_id}/members/{role}")
async def assign_member(
    team_id: uuid.UUID,
    role: Role,
    body: MemberAssign,
    conn: ConnDep,
    response: Response,
    if_match: IfMatch = None,
) -> Team:
    """Assign the one holder of a role (replacing any previous holder)."""
    version = teams.parse_if_match(if_match)
    team = await teams.assign_member(conn, team_id, role, version, body)
    return _with_etag(response, team)


@router.delete("/{team_id}/members/{role}")
async def remove_member(
    team_id: uuid.UUID, role: Role, conn: ConnDep, response: Response, if_match: IfMatch = None
) -> Team:
    """Remove the holder of a role."""
    version = teams.parse_if_match(if_match)
    team = await teams.remove_member(conn, team_id, role, version)
    return _with_etag(response, team)
