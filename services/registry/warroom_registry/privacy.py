"""Team members' personal data (names, phones, e-mails): shown only to admins and to officers of
the team's district or province, and every showing is written to `personal_data_reads`."""

from __future__ import annotations

import asyncpg
from fastapi import Request

from warroom_registry.teams import Team
from warroom_shared.security.principal import AccessRole, Principal


def may_see_personal_data(principal: Principal, team: Team) -> bool:
    if principal.role is AccessRole.ADMIN:
        return True
    officer = principal.role in (AccessRole.PROVINCE_OFFICER, AccessRole.DISTRICT_OFFICER)
    return officer and principal.covers_district(team.district_code)


async def disclose(
    conn: asyncpg.Connection, principal: Principal, team: Team, request: Request
) -> Team:
    """The team as this caller may see it; an answer with personal data is audited."""
    if not team.members:
        return team
    if not may_see_personal_data(principal, team):
        hidden = {"name": None, "phone": None, "email": None}
        return team.model_copy(
            update={"members": [m.model_copy(update=hidden) for m in team.members]}
        )
    await conn.execute(
        "INSERT INTO personal_data_reads "
        "(subject, access_role, team_id, district_code, action, request_id) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        principal.subject, principal.role.value, team.id, team.district_code,
        f"{request.method} {request.url.path}", getattr(request.state, "request_id", None),
    )  # fmt: skip
    return team


async def reads_of(conn: asyncpg.Connection, team_id: object) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT subject, access_role, action, at FROM personal_data_reads "
        "WHERE team_id = $1 ORDER BY id",
        team_id,
    )
    return rows
