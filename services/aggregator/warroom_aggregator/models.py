"""What the totals API answers: one figure set, a breakdown table, district completeness."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel

from warroom_aggregator.store import SECTOR_COLUMNS
from warroom_shared.domain import Dimension, Programme, Sector

Scope = Literal["national", "province", "district"]
BreakdownBy = Literal["province", "district", "quarter", "programme", "dimension", "sector"]


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
    rows: list[BreakdownRow]


class DistrictRef(BaseModel):
    code: str
    province_code: str
    name_th: str
    name_en: str


class Completeness(BaseModel):
    fiscal_year: int
    quarter: int
    province: str | None
    districts: int
    reported: int
    not_reported: int
    reported_share: float
    missing: list[DistrictRef]
