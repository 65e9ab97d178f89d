"""Publishes the district directory to the JetStream KV bucket other services read locally.

An entry carries the district's geography, whether it takes part in the programme (the scope)
and its designated villages of every fiscal year. The registry publishes the whole directory when
it is prepared and when it starts, writing only the entries whose value changed, and one entry
after each change of a district's designations.
"""

from __future__ import annotations

import logging

import asyncpg
import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from warroom_registry import villages
from warroom_registry.geography import District, Geography
from warroom_registry.programme import ProgrammeScope
from warroom_shared.events import DesignatedVillage, DirectoryDistrict
from warroom_shared.messaging import DISTRICTS_BUCKET

log = logging.getLogger(__name__)

Designated = dict[int, list[DesignatedVillage]]  # a district's villages by fiscal year


def entry(
    geo: Geography,
    district: District,
    subdistricts: list[str],
    scope: ProgrammeScope,
    designated: Designated,
) -> DirectoryDistrict:
    province = geo.provinces[district.province_code]
    return DirectoryDistrict(
        code=district.code,
        province_code=district.province_code,
        name_th=district.name_th,
        name_en=district.name_en,
        province_name_th=province.name_th,
        province_name_en=province.name_en,
        kind="khet" if district.kind == "khet" else "amphoe",
        subdistricts=sorted(subdistricts),
        in_programme=scope.includes(district),
        designated_villages=designated,
    )


def entries(
    geo: Geography, scope: ProgrammeScope, designated: dict[str, Designated]
) -> list[DirectoryDistrict]:
    subdistricts: dict[str, list[str]] = {}
    for s in geo.subdistricts.values():
        subdistricts.setdefault(s.district_code, []).append(s.code)
    return [
        entry(geo, d, subdistricts.get(d.code, []), scope, designated.get(d.code, {}))
        for d in geo.districts.values()
    ]


async def publish(
    js: JetStreamContext, conn: asyncpg.Connection, geo: Geography, scope: ProgrammeScope
) -> int:
    """Put every district whose entry changed; returns how many were written. The designations
    are read from the database, so an entry whose put was lost after its change committed (a
    crash, NATS away) is right again after this."""
    kv = await js.key_value(DISTRICTS_BUCKET.bucket)
    written = 0
    for e in entries(geo, scope, await villages.by_fiscal_year(conn)):
        if await _current(kv, e.code) == _value(e):
            continue
        # Written from a fresh read under the district's lock: a designation committed since
        # the read above (by another replica) is never overwritten by this older picture.
        async with villages.district_lock(conn, e.code):
            fresh = await _entry_now(conn, geo, scope, geo.districts[e.code])
            written += await _put_if_changed(kv, fresh)
    return written


async def republish_district(
    js: JetStreamContext,
    conn: asyncpg.Connection,
    geo: Geography,
    scope: ProgrammeScope,
    district: District,
) -> None:
    """Put the district's entry as the database has it now, after a change committed (under the
    district's lock). The change stands if NATS cannot take the entry: the next start's
    `publish` writes it."""
    fresh = await _entry_now(conn, geo, scope, district)
    try:
        kv = await js.key_value(DISTRICTS_BUCKET.bucket)
        await _put_if_changed(kv, fresh)
    except (nats.errors.Error, TimeoutError, OSError):
        log.exception(
            "district directory entry not written; the registry's next start writes it",
            extra={"district_code": district.code},
        )


async def _entry_now(
    conn: asyncpg.Connection, geo: Geography, scope: ProgrammeScope, district: District
) -> DirectoryDistrict:
    designated = (await villages.by_fiscal_year(conn, district.code)).get(district.code, {})
    subdistricts = [s.code for s in geo.subdistricts_of(district.code)]
    return entry(geo, district, subdistricts, scope, designated)


def _value(e: DirectoryDistrict) -> bytes:
    return e.model_dump_json().encode()


async def _current(kv: KeyValue, key: str) -> bytes | None:
    try:
        return (await kv.get(key)).value
    except KeyNotFoundError:
        return None


async def _put_if_changed(kv: KeyValue, e: DirectoryDistrict) -> int:
    value = _value(e)
    if await _current(kv, e.code) == value:
        return 0
    await kv.put(e.code, value)
    return 1
