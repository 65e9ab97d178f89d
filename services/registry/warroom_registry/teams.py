"""District teams: one per district per fiscal year, one holder per role, optimistic concurrency.

Every change commits together with its event in the outbox; events carry role, sector and
completeness, never names, phones or e-mails.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import asyncpg
from pydantic import BaseModel, ConfigDict, EmailStr, Field, Strict, StringConstraints

from warroom_registry import SOURCE
from warroom_shared import outbox
from warroom_shared.domain import ROLE_LABELS, Role, Sector
from warroom_shared.events import (
    Event,
    TeamCompleteness,
    TeamCreated,
    TeamMemberAssigned,
    TeamMemberRemoved,
)
from warroom_shared.http import Problem, version_in
from warroom_shared.i18n import Message
from warroom_shared.text import ValidText

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ValidText
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{7,18}$")]


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    district_code: Annotated[str, Field(pattern=r"^[0-9]{4}$", examples=["1001"])]
    fiscal_year: Annotated[
        int, Strict(), Field(ge=2560, le=2700, description="Buddhist Era", examples=[2569])
    ]


class MemberAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    position: Text
    organisation: Text
    sector: Sector | None = Field(None, description="Defaults to the role's default sector")
    phone: Phone | None = None
    email: Annotated[EmailStr, ValidText] | None = None


PERSONAL = "null unless the caller may see members' personal data"


class Member(BaseModel):
    role: Role
    sector: Sector
    name: str | None = Field(description=PERSONAL)
    position: str
    organisation: str
    phone: str | None = Field(description=PERSONAL)
    email: str | None = Field(description=PERSONAL)
    assigned_at: dt.datetime


class Completeness(TeamCompleteness):
    missing_roles: list[Role]
    missing_sectors: list[Sector]


class TeamSummary(BaseModel):
    id: uuid.UUID
    district_code: str
    province_code: str
    fiscal_year: int
    version: int
    completeness: Completeness
    created_at: dt.datetime
    updated_at: dt.datetime


class Team(TeamSummary):
    members: list[Member]


def completeness(roles_and_sectors: list[tuple[str, str]]) -> Completeness:
    roles = {Role(r) for r, _ in roles_and_sectors}
    sectors = {Sector(s) for _, s in roles_and_sectors}
    return Completeness(
        roles_filled=len(roles),
        sectors_covered=len(sectors),
        missing_roles=[r for r in Role if r not in roles],
        missing_sectors=[s for s in Sector if s not in sectors],
    )


TEAM_COLUMNS = "id, district_code, province_code, fiscal_year, version, created_at, updated_at"
MEMBER_COLUMNS = "role, sector, name, position, organisation, phone, email, assigned_at"


async def read_team(conn: asyncpg.Connection, team_id: uuid.UUID) -> Team | None:
    row = await conn.fetchrow(f"SELECT {TEAM_COLUMNS} FROM teams WHERE id = $1", team_id)
    if row is None:
        return None
    members = await conn.fetch(
        f"SELECT {MEMBER_COLUMNS} FROM team_members WHERE team_id = $1 ORDER BY role", team_id
    )
    held = [(m["role"], m["sector"]) for m in members]
    return Team(**row, members=[Member(**m) for m in members], completeness=completeness(held))


async def list_teams(
    conn: asyncpg.Connection, filters: dict[str, Any], after: str | None, limit: int
) -> list[TeamSummary]:
    where, args = ["true"], []
    for column, value in filters.items():
        if value is not None:
            args.append(value)
            where.append(f"t.{column} = ${len(args)}")
    if after is not None:
        args.append(after)
        where.append(f"(t.district_code || ':' || t.fiscal_year::text) > ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT {', '.join('t.' + c for c in TEAM_COLUMNS.split(', '))}, "
        "coalesce(array_agg(array[m.role, m.sector]) FILTER (WHERE m.role IS NOT NULL), '{}') "
        "AS held FROM teams t LEFT JOIN team_members m ON m.team_id = t.id "
        f"WHERE {' AND '.join(where)} GROUP BY t.id "
        f"ORDER BY t.district_code, t.fiscal_year LIMIT ${len(args)}",
        *args,
    )
    return [
        TeamSummary(
            **{k: v for k, v in r.items() if k != "held"},
            completeness=completeness([(h[0], h[1]) for h in r["held"]]),
        )
        for r in rows
    ]


async def create_team(
    conn: asyncpg.Connection, district_code: str, province_code: str, fiscal_year: int
) -> Team:
    team_id = uuid.uuid4()
    async with conn.transaction():
        inserted = await conn.fetchval(
            "INSERT INTO teams (id, district_code, province_code, fiscal_year) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (district_code, fiscal_year) DO NOTHING "
            "RETURNING id",
            team_id, district_code, province_code, fiscal_year,
        )  # fmt: skip
        if inserted is None:
            existing = await conn.fetchval(
                "SELECT id FROM teams WHERE district_code = $1 AND fiscal_year = $2",
                district_code, fiscal_year,
            )  # fmt: skip
            raise Problem(
                409, "team_exists", district_code=district_code, fiscal_year=fiscal_year,
                headers={"Location": f"/v1/teams/{existing}"}, extra={"team_id": str(existing)},
            )  # fmt: skip
        team = await _read(conn, team_id)
        await _emit(conn, TeamCreated, team)
    return team


async def assign_member(
    conn: asyncpg.Connection, team_id: uuid.UUID, role: Role, version: int, body: MemberAssign
) -> Team:
    sector = body.sector or ROLE_LABELS[role][1]
    async with conn.transaction():
        await _bump_version(conn, team_id, version)
        await conn.execute(
            "INSERT INTO team_members (team_id, role, sector, name, position, organisation, "
            "phone, email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (team_id, role) DO UPDATE SET sector = excluded.sector, "
            "name = excluded.name, position = excluded.position, "
            "organisation = excluded.organisation, phone = excluded.phone, "
            "email = excluded.email, assigned_at = now()",
            team_id, role.value, sector.value, body.name, body.position, body.organisation,
            body.phone, body.email,
        )  # fmt: skip
        team = await _read(conn, team_id)
        await _emit(conn, TeamMemberAssigned, team, role=role, sector=sector)
    return team


async def remove_member(
    conn: asyncpg.Connection, team_id: uuid.UUID, role: Role, version: int
) -> Team:
    async with conn.transaction():
        await _bump_version(conn, team_id, version)
        sector = await conn.fetchval(
            "DELETE FROM team_members WHERE team_id = $1 AND role = $2 RETURNING sector",
            team_id, role.value,
        )  # fmt: skip
        if sector is None:
            raise Problem(404, "member_not_found", role=role.value)
        team = await _read(conn, team_id)
        await _emit(conn, TeamMemberRemoved, team, role=role, sector=Sector(sector))
    return team


async def _bump_version(conn: asyncpg.Connection, team_id: uuid.UUID, version: int) -> None:
    current = await conn.fetchval("SELECT version FROM teams WHERE id = $1 FOR UPDATE", team_id)
    if current is None:
        raise Problem(404, "team_not_found", team_id=team_id)
    if current != version:
        raise Problem(
            412, "stale_version", version=current,
            headers={"ETag": etag(current)},
        )  # fmt: skip
    await conn.execute(
        "UPDATE teams SET version = version + 1, updated_at = now() WHERE id = $1", team_id
    )


async def _read(conn: asyncpg.Connection, team_id: uuid.UUID) -> Team:
    team = await read_team(conn, team_id)
    assert team is not None
    return team


async def _emit(conn: asyncpg.Connection, kind: type[Event], team: Team, **extra: Any) -> None:
    event = kind(
        province_code=team.province_code,
        district_code=team.district_code,
        team_id=team.id,
        fiscal_year=team.fiscal_year,
        completeness=TeamCompleteness(
            **team.completeness.model_dump(include={"roles_filled", "sectors_covered"})
        ),
        **extra,
    )
    await outbox.enqueue(conn, event, SOURCE)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> int:
    """The version an `If-Match` names; 428 without one, 412 when it cannot be ours."""
    if header is None:
        raise Problem(428, "precondition_required")
    version = version_in(header)
    if version is None:
        raise Problem(412, "stale_version", Message("unknown_version"))
    return version
