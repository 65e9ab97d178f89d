"""The aggregator's own view of report events: only the fields it counts, validated strictly.

A message that does not parse here can never be counted, whatever retries happen, so it is
dead-lettered at once. Unknown fields are ignored: producers may add optional fields.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from warroom_shared.domain import Dimension, Programme, Sector
from warroom_shared.events import ReportAmended, ReportRetracted, ReportSubmitted

SECTORS = tuple(Sector)
_ZEROS = (0,) * len(SECTORS)
# Bit 0 is the overall total, so every report carries it; then one bit per dimension.
OVERALL = ""
DIMENSION_BITS: dict[str, int] = {OVERALL: 1} | {d.value: 2 << i for i, d in enumerate(Dimension)}

# Bounded so that no sum can overflow a bigint column, wider than anything reporting accepts.
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Figures(_View):
    province_code: Annotated[str, Field(pattern=r"^[0-9]{2}$")]
    district_code: Annotated[str, Field(pattern=r"^[0-9]{4}$")]
    fiscal_year: Annotated[int, Field(ge=2500, le=2999)]
    quarter: Annotated[int, Field(ge=1, le=4)]
    programme: Programme
    dimensions: Annotated[list[Dimension], Field(min_length=1, max_length=len(Dimension))]
    participants: dict[Sector, Count]
    households: Count

    @model_validator(mode="after")
    def _district_in_province(self) -> Figures:
        if not self.district_code.startswith(self.province_code):
            raise ValueError("district_code is not in province_code")
        return self

    def row(self, sign: int) -> tuple[object, ...]:
        """Delta columns for `store.add_deltas`: sign, bucket key, dimension mask, figures."""
        mask = 1
        for d in self.dimensions:  # a bit mask also ignores a dimension listed twice
            mask |= DIMENSION_BITS[d]
        return (
            sign, self.district_code, self.fiscal_year, self.quarter, self.programme.value, mask,
            self.households, *map(self.participants.get, SECTORS, _ZEROS),  # a missing sector: 0
        )  # fmt: skip


class _Submitted(_View):
    figures: Figures


class _Amended(_View):
    old: Figures
    new: Figures


class _Retracted(_View):
    old: Figures


class _Envelope(_View):
    id: uuid.UUID


class SubmittedEnvelope(_Envelope):
    type: Literal["th.go.dopa.warroom.report.submitted.v1"]
    data: _Submitted


class AmendedEnvelope(_Envelope):
    type: Literal["th.go.dopa.warroom.report.amended.v1"]
    data: _Amended


class RetractedEnvelope(_Envelope):
    type: Literal["th.go.dopa.warroom.report.retracted.v1"]
    data: _Retracted


ReportEnvelope = SubmittedEnvelope | AmendedEnvelope | RetractedEnvelope
_ADAPTER: TypeAdapter[ReportEnvelope] = TypeAdapter(
    Annotated[ReportEnvelope, Field(discriminator="type")]
)
KNOWN_TYPES = {
    ReportSubmitted.event_type(),
    ReportAmended.event_type(),
    ReportRetracted.event_type(),
}


class Poison(Exception):
    """A message that can never be counted; the reason says why."""


def parse(data: bytes) -> ReportEnvelope:
    try:
        return _ADAPTER.validate_json(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise Poison(f"{where}: {first['msg']}"[:500]) from None


def deltas(envelope: ReportEnvelope) -> list[tuple[Figures, int]]:
    """Commutative deltas: +figures for a submission, -old +new for an amendment, -old for a
    retraction, so the totals do not depend on the order events arrive in."""
    if isinstance(envelope, SubmittedEnvelope):
        return [(envelope.data.figures, 1)]
    if isinstance(envelope, AmendedEnvelope):
        return [(envelope.data.old, -1), (envelope.data.new, 1)]
    return [(envelope.data.old, -1)]
