"""A quarter's reports as the CSV an operator imports, and the file's own sums to check against.

The reports are the demo's (`warroom_cli.demo_data`): the programme's districts (the 878 amphoe,
or a draw of them) with their subdistricts from geothai, districts weighted by how busy their
province is, dimensions, the stages' funnel, Thai text, and Sustainable Village reports in the
districts that designate a village in every subdistrict. Deterministic: the same seed and count
give the same file. The benchmark (`bench.quarter`) and the killed-midway test use it alike.
"""

from __future__ import annotations

import csv
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geothai
import httpx

from warroom_cli import demo_data
from warroom_cli.demo_data import Cast, Place
from warroom_registry.geography import BANGKOK
from warroom_shared.domain import Sector
from warroom_shared.fiscal import FiscalPeriod

PERIOD = FiscalPeriod(2568, 2)  # the real War Room counted 1,109,193 reports in it
SEED = 2568
SECTORS = [s.value for s in Sector]
COLUMNS = [  # the columns of `GET /v1/reports.csv` that `warroom import` reads
    "report_id", "programme", "district_code", "subdistrict_code", "village_no", "activity_date",
    "dimensions", "stages", *[f"participants_{s}" for s in SECTORS], "households", "title",
    "details", "reported_by_name", "reported_by_position",
]  # fmt: skip


def places(limit: int | None = None, seed: int = SEED) -> list[Place]:
    """The programme's districts (every amphoe; Bangkok's khet are outside it) with their
    subdistricts, or `limit` of them drawn by the seed."""
    found = [
        Place(d.code, d.province_code, d.name_th.strip(),
              tuple((s.code, s.name_th.strip()) for s in geothai.subdistricts(d.code)))
        for p in geothai.provinces() if p.code != BANGKOK for d in geothai.districts(p.code)
    ]  # fmt: skip
    if limit is not None and limit < len(found):
        found = random.Random(f"{seed}:districts").sample(found, limit)
    return sorted(found, key=lambda p: p.code)


@dataclass(frozen=True)
class Quarter:
    """The scenario: its districts, which of them designate villages, and who reports."""

    places: list[Place]
    designated: dict[str, dict[str, dict[str, Any]]]  # district -> subdistrict -> village
    cast: Cast

    @classmethod
    def of(cls, limit: int | None = None, seed: int = SEED) -> Quarter:
        chosen = places(limit, seed)
        designated = {p.code: demo_data.villages(seed, PERIOD.year, p) for p in chosen}
        return cls(chosen, designated, demo_data.cast_of(seed, chosen, limited=limit is not None))

    def reports(self, n: int) -> Iterable[dict[str, Any]]:
        for i in range(n):
            yield demo_data.quarter_report(self.cast, PERIOD, i, self.designated)

    def villages(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(district, subdistrict, village) of every designation the reports need."""
        return [(d, sub, v) for d, subs in self.designated.items() for sub, v in subs.items()]


def designate(registry_url: str, token: str, quarter: Quarter, parallel: int = 8) -> int:
    """Every designated village of the scenario, through the registry's API; how many."""
    wanted = quarter.villages()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=registry_url, headers=headers, timeout=60) as client:

        def put(item: tuple[str, str, dict[str, Any]]) -> None:
            district, sub, village = item
            r = client.put(f"/v1/districts/{district}/villages/{PERIOD.year}/{sub}", json=village)
            assert r.status_code in (200, 201), r.text

        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(put, wanted))
    return len(wanted)


def write_csv(path: Path, quarter: Quarter, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for r in quarter.reports(n):
            writer.writerow([
                r["report_id"], r["programme"], r["district_code"], r["subdistrict_code"],
                r["village_no"], r["activity_date"], " ".join(r["dimensions"]),
                " ".join(r["stages"]), *[r["participants"][s] for s in SECTORS],
                r["households"], r["title"], r["details"], r["reported_by"]["name"],
                r["reported_by"]["position"],
            ])  # fmt: skip


@dataclass
class Figures:
    """What the aggregator's totals say of a place: reports, households, participants."""

    reports: int = 0
    households: int = 0
    participants: Counter[str] = field(default_factory=Counter)

    def add(self, row: dict[str, str]) -> None:
        self.reports += 1
        self.households += int(row["households"] or 0)
        for s in SECTORS:
            self.participants[s] += int(row[f"participants_{s}"] or 0)

    @classmethod
    def of_totals(cls, answer: dict[str, Any]) -> Figures:
        """From an answer of `GET /v1/totals` (or a row of a breakdown)."""
        return cls(answer["reports"], answer["households"] or 0,
                   Counter({s: answer["participants"][s] for s in SECTORS}))  # fmt: skip

    def same(self, other: Figures) -> bool:
        return (self.reports, self.households) == (other.reports, other.households) and all(
            self.participants[s] == other.participants[s] for s in SECTORS
        )


@dataclass
class Sums:
    national: Figures
    districts: dict[str, Figures]


def file_sums(path: Path) -> Sums:
    """The file's own sums, read back from it: national and each district's."""
    national, districts = Figures(), defaultdict[str, Figures](Figures)
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            national.add(row)
            districts[row["district_code"]].add(row)
    return Sums(national, dict(districts))


def totals_differences(sums: Sums, client: httpx.Client) -> list[str]:
    """Where the aggregator's totals of the quarter differ from the file's sums (national and
    every district of the file); none when they are equal."""
    period = {"fiscal_year": PERIOD.year, "quarter": PERIOD.quarter}
    wrong = []
    national = client.get("/v1/totals", params={"scope": "national", **period})
    national.raise_for_status()
    if not (got := Figures.of_totals(national.json())).same(sums.national):
        wrong.append(f"national: {got} != {sums.national}")
    for province in sorted({code[:2] for code in sums.districts}):
        answer = client.get("/v1/totals/breakdown", params={
            "by": "district", "scope": "province", "code": province, **period})  # fmt: skip
        answer.raise_for_status()
        rows = {row["key"]: Figures.of_totals(row) for row in answer.json()["rows"]}
        for code, want in sums.districts.items():
            if code[:2] == province and not rows.get(code, Figures()).same(want):
                wrong.append(f"district {code}: {rows.get(code)} != {want}")
    return wrong
