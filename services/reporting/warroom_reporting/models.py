"""What a front end sends and gets back. Unknown fields are refused; the server derives the
fiscal year and quarter from the activity date, so a client cannot set them.

Input is taken as written, never coerced: counts are JSON integers (not `true`, `"7"`, `5.0` or
`1e3`), dates are `YYYY-MM-DD` strings (not epoch numbers), text is text PostgreSQL can store
(`ValidText`). The rules live here, so a single submission and a bulk line get the same."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Annotated, Any, Literal

import msgspec
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic import Strict as StrictType

from warroom_shared.domain import STAGE_LABELS, Dimension, Programme, Stage
from warroom_shared.fiscal import fiscal_year_start, today_bangkok, written_date
from warroom_shared.i18n import custom_error
from warroom_shared.text import NoThaiDigitNumber, ValidText

EARLIEST_FISCAL_YEAR = 2560
STAGES = ", ".join(f"{stage.value} ({label.th})" for stage, label in STAGE_LABELS.items())


def _text(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


def _some_stage(value: Any) -> Any:
    if value == []:
        raise custom_error("stages_empty", stages=STAGES)
    return value


def _not_nil(value: uuid.UUID) -> uuid.UUID:
    if value.int == 0:
        raise custom_error("uuid_nil")
    return value


Text = Annotated[str, _text(200), ValidText]
LongText = Annotated[str, _text(10_000), ValidText]
# The constraints before the validators of our own, so that pydantic checks them itself: after
# one, it would call a Python function for each (a fifth of the time validating a report took).
Count = Annotated[int, StrictType(), Field(ge=0, le=1_000_000), NoThaiDigitNumber]
VillageNo = Annotated[int, StrictType(), Field(ge=1, le=99, description="หมู่ที่"), NoThaiDigitNumber]
# a Buddhist-era year is named as such when it gives a date that is not in the future
IsoDate = Annotated[dt.date, written_date(not_after=today_bangkok)]
ReportId = Annotated[uuid.UUID, AfterValidator(_not_nil)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Participants(Strict):
    """People who took part, per sector: all 7 sectors, each a non-negative integer."""

    government: Count
    private: Count
    religious: Count
    civil_society: Count
    academic: Count
    people: Count
    media: Count


class Reporter(Strict):
    name: Text
    position: Text


class ReportContent(Strict):
    """The fields of a report that a submission or an amendment sets."""

    programme: Programme
    district_code: Annotated[str, Field(pattern=r"^[0-9]{4}$", examples=["1001"])]
    subdistrict_code: Annotated[str | None, Field(pattern=r"^[0-9]{6}$", examples=["100101"])] = (
        None
    )
    village_no: VillageNo | None = None
    activity_date: IsoDate
    dimensions: Annotated[list[Dimension], Field(min_length=1, max_length=8)]
    # the programme's method: every report names the stages it covered (the War Room's funnel)
    stages: Annotated[list[Stage], Field(min_length=1, max_length=4), BeforeValidator(_some_stage)]
    participants: Participants
    households: Count | None = None
    title: Text
    details: LongText
    reported_by: Reporter

    @field_validator("activity_date")
    @classmethod
    def _in_range(cls, value: dt.date) -> dt.date:
        if value > today_bangkok():
            raise custom_error("date_in_future")
        if value < fiscal_year_start(EARLIEST_FISCAL_YEAR):
            raise custom_error("date_too_early", fiscal_year=EARLIEST_FISCAL_YEAR)
        return value

    @field_validator("dimensions", "stages")
    @classmethod
    def _unique(cls, value: list[Any]) -> list[Any]:
        if len(set(value)) != len(value):
            raise custom_error("not_unique")
        return value

    def keys_given(self) -> int:
        """How many keys the JSON object it was read from held: every field it was given, its
        own and its objects' (no key but a field's is accepted)."""
        return (
            len(self.model_fields_set) + len(self.participants.model_fields_set)
            + len(self.reported_by.model_fields_set)
        )  # fmt: skip

    def json_values(self) -> dict[str, Any]:
        """Its fields as it holds them (enum members, dates, ids) and its objects' as dicts:
        msgspec writes them as the JSON of `model_dump(mode="json")` (a test holds it so), in
        half the time it takes pydantic to build that dump."""
        values = dict(self.__dict__)
        values["participants"] = dict(self.participants.__dict__)
        values["reported_by"] = dict(self.reported_by.__dict__)
        return values

    def content_hash(self) -> str:
        return hash_canonical(canonical_json(self.json_values()))

    def has_hash(self, stored: str) -> bool:
        """Whether `stored` (a report's `submitted_hash`) is the hash of this content, in the
        form of its time: a hash stored before `HASH_PREFIX` is the legacy one."""
        if stored.startswith(HASH_PREFIX):
            return stored == self.content_hash()
        return stored == _legacy_hash(self.model_dump(mode="json"))


class ReportIn(ReportContent):
    """A new report. `report_id` is generated by the client: resending it is safe."""

    report_id: ReportId


class Retraction(Strict):
    reason: Annotated[str, _text(1000, min_length=3), ValidText]
    retracted_by: Reporter


class Receipt(BaseModel):
    """The answer to a submission; the same body every time the same report is sent again."""

    report_id: uuid.UUID
    version: int
    fiscal_year: int
    quarter: int
    received_at: dt.datetime


class Report(ReportContent):
    model_config = ConfigDict(extra="ignore", frozen=True)

    report_id: uuid.UUID
    version: int
    status: Literal["active", "retracted"]
    province_code: str
    fiscal_year: int
    quarter: int
    received_at: dt.datetime
    updated_at: dt.datetime
    stages: Annotated[list[Stage], Field(max_length=4)]  # stored before a stage was required

    @field_validator("activity_date")
    @classmethod
    def _in_range(cls, value: dt.date) -> dt.date:
        return value  # stored reports are what they are; the range applies to input


class HistoryEntry(BaseModel):
    version: int
    action: Literal["submitted", "amended", "retracted"]
    actor: Reporter
    account: str | None = Field(description="Who sent the change, as authenticated")
    at: dt.datetime
    reason: str | None
    changes: dict[str, dict[str, Any]]


# What tells a resend from a different report under the same id: a hash of its content as
# `model_dump(mode="json")` gives it, written as canonical JSON (keys sorted, compact, UTF-8),
# which the report's first history entry keeps as it is.
_CANONICAL = msgspec.json.Encoder(order="sorted")
HASH_PREFIX = "2:"  # before it, hashes were of Python's json.dumps (`_legacy_hash`)


def canonical_json(dumped: dict[str, Any]) -> bytes:
    return _CANONICAL.encode(dumped)


def hash_canonical(canonical: bytes) -> str:
    return HASH_PREFIX + hashlib.sha256(canonical).hexdigest()


def _legacy_hash(dumped: dict[str, Any]) -> str:
    """The hash of reports stored before HASH_PREFIX: json.dumps, sorted, with its spaces (three
    times msgspec's cost), kept so that a resend of such a report still matches."""
    canonical = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
