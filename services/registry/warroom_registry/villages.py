"""The Sustainable Village programme's designated villages (หนึ่งตำบล หนึ่งหมู่บ้านยั่งยืน).

Each fiscal year a district designates one village per subdistrict, where its team works in the
field. Designating a village of a subdistrict that already has one replaces it (the official
rule: one per subdistrict), saying so with two events: the old village undesignated, the new one
designated. Every change commits together with its events in the outbox; a village's name is a
place, not a person, so events may carry it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, Strict

from warroom_registry import SOURCE
from warroom_registry.geography import District
from warroom_registry.teams import Text
from warroom_shared import outbox
from warroom_shared.events import (
    DesignatedVillage,
    Event,
    VillageDesignated,
    VillageUndesignated,
)
from warroom_shared.http import Problem

# One class of advisory locks (the second key is the district's code): see `district_lock`.
LOCK_CLASS = 14


class VillageDesignate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    village_no: Annotated[int, Strict(), Field(ge=1, le=99, description="หมู่ที่", examples=[3])]
    name: Annotated[Text, Field(examples=["บ้านหนองบัว"])]


class Designation(BaseModel):
    district_code: str
    fiscal_year: int = Field(description="Buddhist Era")
    subdistrict_code: str
    village_no: int = Field(description="หมู่ที่")
    name: str
    designated_at: dt.datetime


COLUMNS = "district_code, fiscal_year, subdistrict_code, village_no, name, designated_at"


@contextlib.asynccontextmanager
async def district_lock(conn: asyncpg.Connection, district_code: str) -> AsyncIterator[None]:
    """Hold the district's designations, across replicas, from a change until its directory entry
    is written: the entry each writer puts is then read after every earlier commit, and the
    last put is never an older picture. (A connection that goes back to the pool loses its
    advisory locks, should the release below not run.)"""
    await conn.execute("SELECT pg_advisory_lock($1, $2)", LOCK_CLASS, int(district_code))
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_CLASS, int(district_code))


async def list_designations(
    conn: asyncpg.Connection, district_code: str, fiscal_year: int | None
) -> list[Designation]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM designated_villages WHERE district_code = $1 "
        "AND ($2::integer IS NULL OR fiscal_year = $2) ORDER BY fiscal_year, subdistrict_code",
        district_code, fiscal_year,
    )  # fmt: skip
    return [Designation(**r) for r in rows]


async def designate(
    conn: asyncpg.Connection,
    district: District,
    fiscal_year: int,
    subdistrict_code: str,
    body: VillageDesignate,
) -> Designation:
    """Designate the subdistrict's village, replacing another; the same village again changes
    nothing and says nothing."""
    async with conn.transaction():
        old = await _current(conn, fiscal_year, subdistrict_code)
        if old is not None and (old.village_no, old.name) == (body.village_no, body.name):
            return old
        row = await conn.fetchrow(
            "INSERT INTO designated_villages (fiscal_year, subdistrict_code, district_code, "
            "village_no, name) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (fiscal_year, subdistrict_code) DO UPDATE SET "
            "village_no = excluded.village_no, name = excluded.name, designated_at = now() "
            f"RETURNING {COLUMNS}",
            fiscal_year, subdistrict_code, district.code, body.village_no, body.name,
        )  # fmt: skip
        new = Designation(**row)
        if old is not None and old.village_no != new.village_no:
            await _emit(conn, VillageUndesignated, district, old)
        await _emit(conn, VillageDesignated, district, new, name=new.name)
    return new


async def undesignate(
    conn: asyncpg.Connection, district: District, fiscal_year: int, subdistrict_code: str
) -> None:
    async with conn.transaction():
        row = await conn.fetchrow(
            f"DELETE FROM designated_villages WHERE fiscal_year = $1 AND subdistrict_code = $2 "
            f"RETURNING {COLUMNS}",
            fiscal_year, subdistrict_code,
        )  # fmt: skip
        if row is None:
            raise Problem(
                404, "village_not_designated", subdistrict=subdistrict_code, fiscal_year=fiscal_year
            )
        await _emit(conn, VillageUndesignated, district, Designation(**row))


async def by_fiscal_year(
    conn: asyncpg.Connection, district_code: str | None = None
) -> dict[str, dict[int, list[DesignatedVillage]]]:
    """Designated villages by district and fiscal year, as the directory carries them: of one
    district, or of all."""
    rows = await conn.fetch(
        "SELECT district_code, fiscal_year, subdistrict_code, village_no, name "
        "FROM designated_villages WHERE $1::text IS NULL OR district_code = $1 "
        "ORDER BY district_code, fiscal_year, subdistrict_code",
        district_code,
    )
    found: dict[str, dict[int, list[DesignatedVillage]]] = {}
    for r in rows:
        village = DesignatedVillage(
            subdistrict_code=r["subdistrict_code"], village_no=r["village_no"], name=r["name"]
        )
        found.setdefault(r["district_code"], {}).setdefault(r["fiscal_year"], []).append(village)
    return found


async def _current(
    conn: asyncpg.Connection, fiscal_year: int, subdistrict_code: str
) -> Designation | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM designated_villages WHERE fiscal_year = $1 "
        "AND subdistrict_code = $2 FOR UPDATE",
        fiscal_year, subdistrict_code,
    )  # fmt: skip
    return None if row is None else Designation(**row)


async def _emit(
    conn: asyncpg.Connection,
    kind: type[Event],
    district: District,
    village: Designation,
    **extra: Any,
) -> None:
    event = kind(
        province_code=district.province_code,
        district_code=district.code,
        fiscal_year=village.fiscal_year,
        subdistrict_code=village.subdistrict_code,
        village_no=village.village_no,
        **extra,
    )
    await outbox.enqueue(conn, event, SOURCE)
