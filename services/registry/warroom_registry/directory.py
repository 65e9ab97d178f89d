"""Publishes the district directory to the JetStream KV bucket other services read locally."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError

from warroom_registry.geography import Geography
from warroom_shared.events import DirectoryDistrict
from warroom_shared.messaging import DISTRICTS_BUCKET


def entries(geo: Geography) -> list[DirectoryDistrict]:
    subdistricts: dict[str, list[str]] = {}
    for s in geo.subdistricts.values():
        subdistricts.setdefault(s.district_code, []).append(s.code)
    return [
        DirectoryDistrict(
            code=d.code,
            province_code=d.province_code,
            name_th=d.name_th,
            name_en=d.name_en,
            province_name_th=geo.provinces[d.province_code].name_th,
            province_name_en=geo.provinces[d.province_code].name_en,
            kind="khet" if d.kind == "khet" else "amphoe",
            subdistricts=sorted(subdistricts.get(d.code, [])),
        )
        for d in geo.districts.values()
    ]


async def publish(js: JetStreamContext, geo: Geography) -> int:
    """Put every district whose entry changed; returns how many were written."""
    kv = await js.key_value(DISTRICTS_BUCKET.bucket)
    written = 0
    for entry in entries(geo):
        value = entry.model_dump_json().encode()
        try:
            current = await kv.get(entry.code)
            if current.value == value:
                continue
        except KeyNotFoundError:
            pass
        await kv.put(entry.code, value)
        written += 1
    return written
