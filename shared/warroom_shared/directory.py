"""The registry's district directory, read from its JetStream KV bucket and kept warm locally.

Reporting and aggregator look districts up here on their hot paths instead of calling the
registry; a watcher applies every change the registry publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from warroom_shared.events import DirectoryDistrict
from warroom_shared.messaging import DISTRICTS_BUCKET

log = logging.getLogger(__name__)


class DistrictDirectory:
    def __init__(self) -> None:
        self.districts: dict[str, DirectoryDistrict] = {}
        self._subdistricts: dict[str, frozenset[str]] = {}
        self._by_province: dict[str, list[DirectoryDistrict]] | None = None  # built when asked
        self.ready = asyncio.Event()
        self._watcher: KeyValue.KeyWatcher | None = None
        self._stopping = False

    def get(self, code: str) -> DirectoryDistrict | None:
        return self.districts.get(code)

    def has_subdistrict(self, district_code: str, subdistrict_code: str) -> bool:
        return subdistrict_code in self._subdistricts.get(district_code, frozenset())

    def in_province(self, province_code: str) -> list[DirectoryDistrict]:
        """The province's districts (a province-scope query asks on every request)."""
        if self._by_province is None:
            self._by_province = {}
            for d in self.districts.values():
                self._by_province.setdefault(d.province_code, []).append(d)
        return list(self._by_province.get(province_code, ()))

    def apply(self, key: str, value: bytes | None) -> None:
        self._by_province = None
        if value is None:
            self.districts.pop(key, None)
            self._subdistricts.pop(key, None)
            return
        entry = DirectoryDistrict.model_validate_json(value)
        self.districts[key] = entry
        self._subdistricts[key] = frozenset(entry.subdistricts)

    async def run(self, js: JetStreamContext, retry_seconds: float = 1.0) -> None:
        """Watch the bucket until stopped; `ready` is set once the current values are loaded."""
        while not self._stopping:
            try:
                kv = await js.key_value(DISTRICTS_BUCKET.bucket)
                # nats-py may send its "caught up" marker before the first values when they
                # arrive quickly, so count the values the bucket held when we started as well.
                expected = (await kv.status()).values
                self._watcher = await kv.watchall()
                if self._stopping:  # stop() came while we were subscribing
                    await self._watcher.stop()
                seen, caught_up = 0, False
                async for entry in self._watcher:
                    if entry is None:
                        caught_up = True
                    else:
                        seen += 1
                        deleted = entry.operation in (KV_DEL, KV_PURGE)
                        self.apply(entry.key, None if deleted else entry.value)
                    if caught_up and seen >= expected:
                        self.ready.set()
            except BucketNotFoundError:
                log.warning("district directory not published yet; waiting for the registry")
            except Exception:  # the broker may be away: keep what we have, watch again
                log.exception("district directory watch failed")
            if not self._stopping:
                await asyncio.sleep(retry_seconds)

    async def stop(self) -> None:
        self._stopping = True
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                await self._watcher.stop()  # type: ignore[no-untyped-call]
