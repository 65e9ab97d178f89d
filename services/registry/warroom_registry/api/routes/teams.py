"""District teams. Writes take `If-Match` with the team's ETag; a stale one gets 412.

Officers see and manage the teams of their own area; only admins manage teams elsewhere.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel

from warroom_registry import privacy, teams
from warroom_registry.api.deps import ConnDep, GeoDep, ScopeDep
from warroom_registry.programme import outside_programme
from warroom_registry.teams import MemberAssign, Team, TeamCreate, TeamSummary
from warroom_shared.domain import Role
from warroom_shared.http import Problem
from warroom_shared.jsonbody import StrictJSONRoute
from warroom_shared.security.access import (
    ADMIN,
    DISTRICT_OFFICER,
    PROVINCE_OFFICER,
    READERS,
    Allow,
    area_filters,
    outside_area,
)
from warroom_shared.security.principal import Principal

router = APIRouter(prefix="/v1/teams", tags=["teams"], route_class=StrictJSONRoute)

IfMatch = Annotated[str | None, Header(description="The team's ETag, from a previous read")]
Reader = Annotated[Principal, Depends(Allow(*READERS))]
Manager = Annotated[Principal, Depends(Allow(ADMIN, PROVINCE_OFFICER, DISTRICT_OFFICER))]
Admin = Annotated[Principal, Depends(Allow(ADMIN))]


class TeamPage(BaseModel):
    items: list[TeamSummary]
    next_cursor: str | None


class PersonalDataRead(BaseModel):
    subject: str
    access_role: str
    action: str
    at: dt.datetime


async def _answer(
    conn: ConnDep, principal: Principal, team: Team, request: Request, response: Response
) -> Team:
    response.headers["ETag"] = teams.etag(team.version)
    return await privacy.disclose(conn, principal, team, request)


async def _team_in_area(conn: ConnDep, principal: Principal, team_id: uuid.UUID) -> Team:
    """The team, or 404 when there is none or it lies outside the caller's area."""
    team = await teams.read_team(conn, team_id)
    if team is None or not principal.covers_district(team.district_code):
        raise Problem(404, "team_not_found", team_id=team_id)
    return team


@router.post("", status_code=201)
async def create_team(
    principal: Manager,
    body: TeamCreate,
    conn: ConnDep,
    geo: GeoDep,
    scope: ScopeDep,
    request: Request,
    response: Response,
) -> Team:
    """Create the team of a district for a fiscal year (409 if it already has one; 422 for a
    district outside the programme)."""
    district = geo.districts.get(body.district_code)
    if district is None:
        raise Problem(404, "district_not_found", code=body.district_code)
    if not principal.covers_district(district.code):
        raise outside_area("district", district.code)
    if not scope.includes(district):
        raise outside_programme(district)
    team = await teams.create_team(conn, district.code, district.province_code, body.fiscal_year)
    response.headers["Location"] = f"/v1/teams/{team.id}"
    return await _answer(conn, principal, team, request, response)


@router.get("")
async def list_teams(
    principal: Reader,
    conn: ConnDep,
    geo: GeoDep,
    district: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
    province: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    fiscal_year: Annotated[int | None, Query(ge=2560, le=2700)] = None,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{4}:[0-9]{4}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TeamPage:
    """Teams with their completeness, filtered by district, province and fiscal year
    (an officer's own area when it names none)."""
    if district is not None and district not in geo.districts:
        raise Problem(404, "district_not_found", code=district)
    if province is not None and province not in geo.provinces:
        raise Problem(404, "province_not_found", code=province)
    district, province = area_filters(principal, district, province)
    filters = {"district_code": district, "province_code": province, "fiscal_year": fiscal_year}
    items = await teams.list_teams(conn, filters, cursor, limit)
    last = items[-1] if len(items) == limit else None
    return TeamPage(
        items=items, next_cursor=f"{last.district_code}:{last.fiscal_year}" if last else None
    )


@router.get("/{team_id}")
async def get_team(
    principal: Reader, team_id: uuid.UUID, conn: ConnDep, request: Request, response: Response
) -> Team:
    """One team with its members and completeness; the ETag is what a write must send back.
    Names, phones and e-mails only for admins and the officers of its district or province."""
    team = await _team_in_area(conn, principal, team_id)
    return await _answer(conn, principal, team, request, response)


@router.get("/{team_id}/personal-data-reads")
async def list_personal_data_reads(
    _: Admin, team_id: uuid.UUID, conn: ConnDep
) -> list[PersonalDataRead]:
    """Who was shown this team's personal data, and when (the audit log)."""
    return [PersonalDataRead(**r) for r in await privacy.reads_of(conn, team_id)]


@router.put("/{team_id}/members/{role}")
async def assign_member(
    principal: Manager,
    team_id: uuid.UUID,
    role: Role,
    body: MemberAssign,
    conn: ConnDep,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> Team:
    """Assign the one holder of a role (replacing any previous holder)."""
    await _team_in_area(conn, principal, team_id)
    version = teams.parse_if_match(if_match)
    team = await teams.assign_member(conn, team_id, role, version, body)
    return await _answer(conn, principal, team, request, response)


@router.delete("/{team_id}/members/{role}")
async def remove_member(
    principal: Manager,
    team_id: uuid.UUID,
    role: Role,
    conn: ConnDep,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> Team:
    """Remove the holder of a role."""
    await _team_in_area(conn, principal, team_id)
    version = teams.parse_if_match(if_match)
    team = await teams.remove_member(conn, team_id, role, version)
    return await _answer(conn, principal, team, request, response)
