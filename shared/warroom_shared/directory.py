"""The registry's district directory, read from its JetStream KV bucket and kept warm locally.

Reporting and aggregator look districts up here on their hot paths instead of calling the
registry; a watcher applies every change the registry publishes. Each entry says whether the
district takes part in the programme (the registry's programme scope) and which villages it
designated for the Sustainable Village programme in each fiscal year.
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
        self._programme: list[DirectoryDistrict] | None = None  # built when asked
        # (fiscal year, subdistrict, village no.) of each district's designated villages
        self._designated: dict[str, frozenset[tuple[int, str, int]]] = {}
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

    def in_programme(self) -> list[DirectoryDistrict]:
        """The districts that take part in the programme: every "of N districts" counts these
        (the 878 amphoe, unless an operator included Bangkok's khet)."""
        if self._programme is None:
            self._programme = [d for d in self.districts.values() if d.in_programme]
        return list(self._programme)

    def designated(
        self, district_code: str, fiscal_year: int, subdistrict_code: str, village_no: int
    ) -> bool:
        """Whether the district designated this village for the fiscal year (Sustainable Village:
        one village per subdistrict per fiscal year)."""
        key = (fiscal_year, subdistrict_code, village_no)
        return key in self._designated.get(district_code, frozenset())

    def apply(self, key: str, value: bytes | None) -> None:
        self._by_province = self._programme = None
        if value is None:
            self.districts.pop(key, None)
            self._subdistricts.pop(key, None)
            self._designated.pop(key, None)
            return
        entry = DirectoryDistrict.model_validate_json(value)
        self.districts[key] = entry
        self._subdistricts[key] = frozenset(entry.subdistricts)
        self._designated[key] = frozenset(
            (year, v.subdistrict_code, v.village_no)
            for year, villages in entry.designated_villages.items()
            for v in villages
        )

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
