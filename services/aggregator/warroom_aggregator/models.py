"""What the totals API answers: one figure set, a breakdown table, completeness, deadlines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from warroom_aggregator.store import SECTOR_COLUMNS
from warroom_shared.domain import Dimension, Programme, Sector, Stage
from warroom_shared.fiscal import written_date

Scope = Literal["national", "province", "district"]
BreakdownBy = Literal[
    "province", "district", "quarter", "month", "programme", "dimension", "stage", "sector"
]
Timeliness = Literal["on_time", "late", "not_yet"]


class FigureSet(BaseModel):
    reports: int
    participants: dict[Sector, int]
    participants_total: int
    households: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FigureSet:
        participants = {s: int(row[c]) for s, c in zip(Sector, SECTOR_COLUMNS, strict=True)}
        return cls(
            reports=int(row["reports"]),
            participants=participants,
            participants_total=sum(participants.values()),
            households=int(row["households"]),
        )


class Totals(FigureSet):
    """The figures of one filter; a filter left out means all of it."""

    scope: Scope
    code: str
    name_th: str | None = None
    name_en: str | None = None
    fiscal_year: int | None
    quarter: int | None
    programme: Programme | None
    dimension: Dimension | None
    stage: Stage | None


class BreakdownRow(BaseModel):
    key: str
    name_th: str | None = None
    name_en: str | None = None
    reports: int | None  # None on a sector row: a sector counts participants, not reports
    participants: dict[Sector, int] | None
    participants_total: int
    households: int | None


class Breakdown(BaseModel):
    by: BreakdownBy
    scope: Scope
    code: str
    fiscal_year: int | None
    quarter: int | None
    programme: Programme | None
    dimension: Dimension | None
    stage: Stage | None
    rows: list[BreakdownRow]


class DistrictRef(BaseModel):
    code: str
    province_code: str
    name_th: str
    name_en: str


class DistrictTimeliness(DistrictRef):
    status: Timeliness
    subdistricts: int = Field(
        description="the district's subdistricts (tambon; khwaeng in Bangkok), from the registry's "
        "directory: the size a fair comparison of districts divides by"
    )


class Completeness(BaseModel):
    """The programme's districts of an area in a quarter: reported (on time or late) or not."""

    fiscal_year: int
    quarter: int
    province: str | None
    district: str | None
    due_on: dt.date
    days_left: int = Field(description="days until the deadline, Asia/Bangkok; negative after")
    districts: int = Field(description="the programme's districts in the area")
    reported: int
    on_time: int
    late: int
    not_reported: int
    reported_share: float = Field(description="the same as reporting_rate")
    reporting_rate: float = Field(description="reported / districts")
    on_time_rate: float = Field(description="reported on time / districts")
    missing: list[DistrictRef]
    statuses: list[DistrictTimeliness]


class VillageStatus(BaseModel):
    district_code: str
    subdistrict_code: str
    village_no: int
    name: str
    reports: int


class VillageCompleteness(BaseModel):
    """The designated Sustainable Village villages of an area: which have reported."""

    fiscal_year: int
    quarter: int
    province: str | None
    district: str | None
    villages: int = Field(description="villages designated for the fiscal year in the area")
    reported: int
    not_reported: int
    reporting_rate: float
    rows: list[VillageStatus]


class Deadline(BaseModel):
    fiscal_year: int
    quarter: int
    due_on: dt.date
    default: bool = Field(description="true: no admin set it, 15 days after the quarter ends")


class DeadlineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_on: Annotated[dt.date, written_date()] = Field(examples=["2025-01-15"])
