"""Thai administrative geography (DOPA geocodes) from the `geothai` package, and its snapshot.

Data: geothai (MIT code, CC BY 4.0 data), checked against DOPA; it corrects the defects recorded
for the cross-check copy (e.g. "Loburi", trailing spaces, Bueng Kan's shifted English names).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import geothai

BANGKOK = "10"


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name_th: str
    name_en: str


@dataclass(frozen=True, slots=True)
class District:
    code: str
    province_code: str
    name_th: str
    name_en: str
    kind: str  # "amphoe", or "khet" in Bangkok


@dataclass(frozen=True, slots=True)
class Subdistrict:
    code: str
    district_code: str
    name_th: str
    name_en: str
    postal_codes: tuple[str, ...]


async def load(conn: asyncpg.Connection) -> bool:
    """Load or refresh the geography tables; a no-op when this data version is already loaded."""
    loaded = await conn.fetchval("SELECT data_version FROM geography_meta")
    if loaded == geothai.DATA_VERSION:
        return False
    provinces = [(p.code, p.name_th.strip(), p.name_en.strip()) for p in geothai.provinces()]
    districts = [
        (d.code, d.province_code, d.name_th.strip(), d.name_en.strip(),
         "khet" if d.province_code == BANGKOK else "amphoe")
        for p in geothai.provinces() for d in geothai.districts(p.code)
    ]  # fmt: skip
    subdistricts = [
        (s.code, s.district_code, s.name_th.strip(), s.name_en.strip(), list(s.postal_codes))
        for d in districts
        for s in geothai.subdistricts(d[0])
    ]
    async with conn.transaction():
        await conn.executemany(
            "INSERT INTO provinces VALUES ($1, $2, $3) ON CONFLICT (code) DO UPDATE "
            "SET name_th = excluded.name_th, name_en = excluded.name_en",
            provinces,
        )
        await conn.executemany(
            "INSERT INTO districts VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE "
            "SET name_th = excluded.name_th, name_en = excluded.name_en, kind = excluded.kind",
            districts,
        )
        await conn.executemany(
            "INSERT INTO subdistricts VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE "
            "SET name_th = excluded.name_th, name_en = excluded.name_en, "
            "postal_codes = excluded.postal_codes",
            subdistricts,
        )
        await conn.execute(
            "INSERT INTO geography_meta (data_version) VALUES ($1) ON CONFLICT (id) DO UPDATE "
            "SET data_version = excluded.data_version, loaded_at = now()",
            geothai.DATA_VERSION,
        )
    return True


@dataclass(frozen=True)
class Geography:
    """An in-memory snapshot of the geography tables: reference data served without queries."""

    provinces: dict[str, Province]
    districts: dict[str, District]
    subdistricts: dict[str, Subdistrict]

    def districts_of(self, province_code: str) -> list[District]:
        return [d for d in self.districts.values() if d.province_code == province_code]

    def subdistricts_of(self, district_code: str) -> list[Subdistrict]:
        return [s for s in self.subdistricts.values() if s.district_code == district_code]

    @classmethod
    async def read(cls, conn: asyncpg.Connection) -> Geography:
        rows = await conn.fetch("SELECT code, name_th, name_en FROM provinces ORDER BY code")
        provinces = {r["code"]: Province(**r) for r in rows}
        rows = await conn.fetch(
            "SELECT code, province_code, name_th, name_en, kind FROM districts ORDER BY code"
        )
        districts = {r["code"]: District(**r) for r in rows}
        rows = await conn.fetch(
            "SELECT code, district_code, name_th, name_en, postal_codes FROM subdistricts "
            "ORDER BY code"
        )
        subdistricts = {
            r["code"]: Subdistrict(**{**r, "postal_codes": tuple(r["postal_codes"])}) for r in rows
        }
        return cls(provinces, districts, subdistricts)
