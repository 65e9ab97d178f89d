"""The event envelope (CloudEvents 1.0, structured JSON) and the events every service may exchange.

Subjects are a public API: `warroom.<domain>.<event>.<province>.<district>`. Events are only ever
added to; a breaking change is a new `.v2` type. Personal data never goes into an event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from warroom_shared.domain import Dimension, Programme, Role, Sector

TYPE_PREFIX = "th.go.dopa.warroom"


class Event(BaseModel):
    """Base of every event. Consumers ignore fields they do not know."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    DOMAIN: ClassVar[str]
    NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1

    province_code: str
    district_code: str

    @classmethod
    def event_type(cls) -> str:
        return f"{TYPE_PREFIX}.{cls.DOMAIN}.{cls.NAME}.v{cls.VERSION}"

    def subject(self) -> str:
        return f"warroom.{self.DOMAIN}.{self.NAME}.{self.province_code}.{self.district_code}"


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes around an event's data."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str
    type: str
    subject: str
    time: dt.datetime = Field(default_factory=lambda: dt.datetime.now(tz=dt.UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, object]

    @classmethod
    def wrap(cls, event: Event, source: str, event_id: uuid.UUID | None = None) -> Envelope:
        return cls(
            id=event_id or uuid.uuid4(),
            source=source,
            type=event.event_type(),
            subject=event.subject(),
            data=event.model_dump(mode="json"),
        )


# --- registry events --------------------------------------------------------------------------


class TeamCompleteness(BaseModel):
    model_config = ConfigDict(frozen=True)

    roles_filled: int
    roles_total: int = len(Role)
    sectors_covered: int
    sectors_total: int = len(Sector)


class _TeamEvent(Event):
    DOMAIN = "registry.team"

    team_id: uuid.UUID
    fiscal_year: int
    completeness: TeamCompleteness


class TeamCreated(_TeamEvent):
    NAME = "created"


class TeamMemberAssigned(_TeamEvent):
    NAME = "member_assigned"

    role: Role
    sector: Sector


class TeamMemberRemoved(_TeamEvent):
    NAME = "member_removed"

    role: Role
    sector: Sector


class DirectoryDistrict(BaseModel):
    """One entry of the district directory in the registry's KV bucket (key = district code)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str
    province_code: str
    name_th: str
    name_en: str
    province_name_th: str
    province_name_en: str
    kind: Literal["amphoe", "khet"]
    subdistricts: list[str]


# --- reporting events -------------------------------------------------------------------------


class ReportFigures(BaseModel):
    """What the totals count of one version of a report: its buckets and its figures.

    Amendments carry the old and the new figures, retractions the old, so a consumer moves counts
    with commutative deltas (-old, +new) and needs no state of its own about reports.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    province_code: str
    district_code: str
    fiscal_year: int
    quarter: int
    programme: Programme
    dimensions: list[Dimension]
    participants: dict[Sector, int]
    households: int


class _ReportEvent(Event):
    DOMAIN = "report"

    report_id: uuid.UUID
    version: int


class ReportSubmitted(_ReportEvent):
    NAME = "submitted"

    figures: ReportFigures


class ReportAmended(_ReportEvent):
    NAME = "amended"

    old: ReportFigures
    new: ReportFigures


class ReportRetracted(_ReportEvent):
    NAME = "retracted"

    old: ReportFigures
    reason: str


REPORT_EVENTS: dict[str, type[_ReportEvent]] = {
    e.event_type(): e for e in (ReportSubmitted, ReportAmended, ReportRetracted)
}
