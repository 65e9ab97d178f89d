"""Report events for the aggregator's tests: their lives (submit, amend, retract), published to
REPORTS the way the reporting service's relay does, and the totals they must add up to."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nats.js import JetStreamContext

from warroom_aggregator.labels import months_of
from warroom_shared.domain import Dimension, Programme, Sector, Stage
from warroom_shared.events import (
    Envelope,
    ReportAmended,
    ReportFigures,
    ReportRetracted,
    ReportSubmitted,
)

SOURCE = "/warroom/reporting"
DISTRICTS = ("1001", "1002", "1050", "5001", "5025", "9601")
Key = tuple[str, str, int, int, str, str]  # scope, code, fiscal year, quarter, programme, dim
MonthKey = tuple[str, str, int, int, int, str]  # scope, code, fiscal year, quarter, month, prog.
ReceivedKey = tuple[str, int, int, dt.date]  # district, fiscal year, quarter, day received
VillageKey = tuple[str, int, int, str, int]  # district, fiscal year, quarter, subdistrict, no.
Vector = list[int]  # reports, households, then participants in Sector order
UNKNOWN_DAY = dt.date.min  # how asyncpg reads the -infinity of a day unknown


def figures(
    district: str = "1001",
    fiscal_year: int = 2568,
    quarter: int = 2,
    programme: Programme = Programme.CAST,
    dimensions: Sequence[Dimension] = (Dimension.HOUSING,),
    households: int = 3,
    stages: Sequence[Stage] = (Stage.TALK,),
    month: int | None = -1,  # -1: the quarter's first month; None: unknown (an old event)
    received_on: dt.date | None = None,
    village: tuple[str, int] | None = None,  # (subdistrict code, village no.)
    **participants: int,
) -> ReportFigures:
    counts = {s: participants.get(s.value, 1) for s in Sector}
    return ReportFigures(
        province_code=district[:2], district_code=district, fiscal_year=fiscal_year,
        quarter=quarter, programme=programme, dimensions=list(dimensions),
        participants=counts, households=households, stages=list(stages),
        month=months_of(quarter)[0] if month == -1 else month, received_on=received_on,
        subdistrict_code=village[0] if village else None,
        village_no=village[1] if village else None,
    )  # fmt: skip


def random_figures(rng: random.Random, districts: Sequence[str] = DISTRICTS) -> ReportFigures:
    """Any figures, some as old events carry them (no stage, month, day or village)."""
    district, quarter, programme = rng.choice(districts), rng.randint(1, 4), rng.choice(PROGRAMMES)
    old = rng.random() < 0.1
    return figures(
        district=district,
        fiscal_year=rng.choice((2567, 2568)),
        quarter=quarter,
        programme=programme,
        dimensions=rng.sample(list(Dimension), rng.randint(1, 3)),
        households=rng.randint(0, 40),
        stages=() if old else rng.sample(list(Stage), rng.randint(0, 4)),
        month=None if old else rng.choice(months_of(quarter)),
        received_on=None if old else dt.date(2025, 1, 1) + dt.timedelta(rng.randint(0, 40)),
        village=(f"{district}0{rng.randint(1, 2)}", rng.randint(1, 3)) if not old else None,
        **{s.value: rng.randint(0, 25) for s in Sector},
    )


PROGRAMMES = list(Programme)


def submitted(report_id: uuid.UUID, new: ReportFigures) -> Envelope:
    event = ReportSubmitted(
        province_code=new.province_code, district_code=new.district_code,
        report_id=report_id, version=1, figures=new,
    )  # fmt: skip
    return Envelope.wrap(event, SOURCE)


def amended(report_id: uuid.UUID, version: int, old: ReportFigures, new: ReportFigures) -> Envelope:
    event = ReportAmended(
        province_code=new.province_code, district_code=new.district_code,
        report_id=report_id, version=version, old=old, new=new,
    )  # fmt: skip
    return Envelope.wrap(event, SOURCE)


def retracted(report_id: uuid.UUID, version: int, old: ReportFigures) -> Envelope:
    event = ReportRetracted(
        province_code=old.province_code, district_code=old.district_code,
        report_id=report_id, version=version, old=old, reason="entered twice",
    )  # fmt: skip
    return Envelope.wrap(event, SOURCE)


@dataclass
class Reports:
    """Reports living their lives; `envelopes` holds every event, `current` what each report
    counts as now (None once retracted): the ground truth, whatever order events arrive in."""

    rng: random.Random = field(default_factory=lambda: random.Random(4))
    envelopes: list[Envelope] = field(default_factory=list)
    current: dict[uuid.UUID, ReportFigures | None] = field(default_factory=dict)
    versions: dict[uuid.UUID, int] = field(default_factory=dict)

    def submit(self, new: ReportFigures | None = None) -> uuid.UUID:
        report_id = uuid.uuid4()
        new = new or random_figures(self.rng)
        self._add(report_id, submitted(report_id, new), new)
        return report_id

    def amend(self, report_id: uuid.UUID, new: ReportFigures | None = None) -> None:
        old = self.current[report_id]
        assert old is not None
        new = new or random_figures(self.rng)
        self._add(report_id, amended(report_id, self.versions[report_id] + 1, old, new), new)

    def retract(self, report_id: uuid.UUID) -> None:
        old = self.current[report_id]
        assert old is not None
        self._add(report_id, retracted(report_id, self.versions[report_id] + 1, old), None)

    def lives(self, count: int) -> None:
        """`count` reports, about a third amended (some twice), about one in six retracted."""
        for _ in range(count):
            report_id = self.submit()
            for _ in range(self.rng.choice((0, 0, 1, 2))):
                self.amend(report_id)
            if self.rng.random() < 1 / 6:
                self.retract(report_id)

    def _add(self, report_id: uuid.UUID, envelope: Envelope, now: ReportFigures | None) -> None:
        self.envelopes.append(envelope)
        self.current[report_id] = now
        self.versions[report_id] = self.versions.get(report_id, 0) + 1

    def truth(self) -> dict[Key, Vector]:
        return ground_truth(f for f in self.current.values() if f is not None)

    def full_truth(self) -> Truth:
        return full_truth(f for f in self.current.values() if f is not None)


def ground_truth(reports: Iterable[ReportFigures]) -> dict[Key, Vector]:
    """Bucket rows computed the plain way, one report at a time, from current figures: districts
    and the nation have rows; a province is its districts' rows (see `in_scope`). A report
    counts overall, once under each dimension and once under each stage ('stage:talk')."""
    totals: dict[Key, Vector] = defaultdict(lambda: [0] * (2 + len(Sector)))
    for f in reports:
        vector = [1, f.households, *(f.participants.get(s, 0) for s in Sector)]
        places = (("district", f.district_code), ("national", "TH"))
        facets = {"", *(d.value for d in f.dimensions), *(f"stage:{s.value}" for s in f.stages)}
        for (scope, code), facet in ((place, d) for place in places for d in facets):
            key = (scope, code, f.fiscal_year, f.quarter, f.programme.value, facet)
            totals[key] = [a + b for a, b in zip(totals[key], vector, strict=True)]
    return dict(totals)


@dataclass(frozen=True)
class Truth:
    """Every table the aggregator counts in, computed the plain way."""

    totals: dict[Key, Vector]
    months: dict[MonthKey, Vector]
    received: dict[ReceivedKey, int]
    villages: dict[VillageKey, int]


def full_truth(reports: Iterable[ReportFigures]) -> Truth:
    reports = list(reports)
    months: dict[MonthKey, Vector] = defaultdict(lambda: [0] * (2 + len(Sector)))
    received: dict[ReceivedKey, int] = defaultdict(int)
    villages: dict[VillageKey, int] = defaultdict(int)
    for f in reports:
        vector = [1, f.households, *(f.participants.get(s, 0) for s in Sector)]
        for scope, code in (("district", f.district_code), ("national", "TH")):
            key = (scope, code, f.fiscal_year, f.quarter, f.month or 0, f.programme.value)
            months[key] = [a + b for a, b in zip(months[key], vector, strict=True)]
        period = (f.district_code, f.fiscal_year, f.quarter)
        received[(*period, f.received_on or UNKNOWN_DAY)] += 1
        if f.programme == Programme.SUSTAINABLE_VILLAGE and f.village_no and f.subdistrict_code:
            villages[(*period, f.subdistrict_code, f.village_no)] += 1
    return Truth(ground_truth(reports), dict(months), dict(received), dict(villages))


def in_scope(row_scope: str, row_code: str, scope: str, code: str) -> bool:
    """Whether a bucket row counts toward a scope's figures."""
    if scope == "province":
        return row_scope == "district" and row_code.startswith(code)
    return (row_scope, row_code) == (scope, code)


async def publish(js: JetStreamContext, envelopes: Sequence[Envelope], chunk: int = 500) -> None:
    """Publish like the outbox relay: async JetStream publishes, `Nats-Msg-Id` = event id."""
    for start in range(0, len(envelopes), chunk):
        futures = [
            await js.publish_async(
                e.subject, e.model_dump_json().encode(), headers={"Nats-Msg-Id": str(e.id)}
            )
            for e in envelopes[start : start + chunk]
        ]
        for future in futures:
            await future
