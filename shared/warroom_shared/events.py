"""The event envelope (CloudEvents 1.0, structured JSON) and the events every service may exchange.

Subjects are a public API: `warroom.<domain>.<event>.<province>.<district>`. Events are only ever
added to; a breaking change is a new `.v2` type. Personal data never goes into an event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from warroom_shared.domain import Dimension, Programme, Role, Sector, Stage

TYPE_PREFIX = "th.go.dopa.warroom"


class Event(BaseModel):
    """Base of every event. Consumers ignore fields they do not know."""

    # Every field is on the wire, defaults included: the published schema says so.
    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_serialization_defaults_required=True
    )

    DOMAIN: ClassVar[str]
    NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1

    province_code: str
    district_code: str

    @classmethod
    def event_type(cls) -> str:
        return f"{TYPE_PREFIX}.{cls.DOMAIN}.{cls.NAME}.v{cls.VERSION}"

    def subject(self) -> str:
        return self.subject_of(self.province_code, self.district_code)

    @classmethod
    def subject_of(cls, province_code: str, district_code: str) -> str:
        return f"warroom.{cls.DOMAIN}.{cls.NAME}.{province_code}.{district_code}"


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes around an event's data."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_serialization_defaults_required=True
    )

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


_JSON = msgspec.json.Encoder()


def encoded_envelope(
    event: type[Event], data: dict[str, object], source: str, time: dt.datetime
) -> tuple[uuid.UUID, str, bytes]:
    """The id, subject and JSON of the envelope of an `event` whose fields are `data`, as
    `Envelope.wrap(event(**data), source).model_dump_json()` writes it, without building either
    model: for events by the thousand (a bulk import's), built from values validated already.
    `data`: the event's fields in their order, each as its model holds it (an enum member, a
    date) or in its JSON form; its `province_code` and `district_code` make the subject."""
    event_id = uuid.uuid4()
    subject = event.subject_of(str(data["province_code"]), str(data["district_code"]))
    envelope = {
        "specversion": "1.0", "id": event_id, "source": source, "type": event.event_type(),
        "subject": subject, "time": time, "datacontenttype": "application/json", "data": data,
    }  # fmt: skip
    return event_id, subject, _JSON.encode(envelope)


# --- registry events --------------------------------------------------------------------------


class TeamCompleteness(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

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


class _VillageEvent(Event):
    """A Sustainable Village designation (หนึ่งตำบล หนึ่งหมู่บ้านยั่งยืน) of one fiscal year."""

    DOMAIN = "registry.village"

    fiscal_year: int = Field(description="Buddhist Era")
    subdistrict_code: str
    village_no: int = Field(description="หมู่ที่")


class VillageDesignated(_VillageEvent):
    NAME = "designated"

    name: str = Field(description="the village's name (a place, not a person)")


class VillageUndesignated(_VillageEvent):
    NAME = "undesignated"


class DesignatedVillage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    subdistrict_code: str
    village_no: int = Field(description="หมู่ที่")
    name: str


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
    in_programme: bool = Field(
        default=True,
        description="whether the district takes part in the programme (the registry's programme "
        "scope: the amphoe by default; Bangkok's khet only when an operator includes them)",
    )
    designated_villages: dict[int, list[DesignatedVillage]] = Field(
        default_factory=dict,
        description="Sustainable Village designations by fiscal year (Buddhist Era)",
    )


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
    # Added fields (compatible with v1: events published before them lack them, and consumers
    # must count such an event without them).
    stages: list[Stage] = Field(
        default_factory=list, description="the participation stages the activity covered"
    )
    month: int | None = Field(
        default=None, ge=1, le=12, description="calendar month of the activity date (1-12)"
    )
    subdistrict_code: str | None = None
    village_no: int | None = Field(default=None, description="หมู่ที่")
    received_on: dt.date | None = Field(
        default=None,
        description="the day (Asia/Bangkok) the report was first received, for timeliness; "
        "the same in every version of a report",
    )


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


# --- aggregator messages ----------------------------------------------------------------------


class TotalsUpdated(BaseModel):
    """`warroom.totals.updated.<scope>.<code>` (core NATS, not an envelope): the new overall
    totals of one scope, code and quarter, all programmes and dimensions. The aggregator builds it
    without a model on its hot path; its tests hold it to this one."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    scope: Literal["national", "province", "district"]
    code: str = Field(description="province (2 digits) or district (4 digits); TH for national")
    fiscal_year: int = Field(description="Buddhist Era")
    quarter: int
    programme: None = Field(description="always null: every programme")
    dimension: None = Field(description="always null: every dimension")
    reports: int
    participants: dict[Sector, int]
    participants_total: int
    households: int


class DeadLetterHeaders(BaseModel):
    """The NATS headers of a dead letter (`warroom.deadletter.aggregator`), whose body is the
    original message's data as it was."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    msg_id: str = Field(alias="Nats-Msg-Id", description="aggregator-deadletter-<stream seq>")
    reason: str = Field(alias="Warroom-Reason", description="why it can never be counted")
    subject: str = Field(alias="Warroom-Subject", description="the original message's subject")
    stream_seq: int = Field(alias="Warroom-Stream-Seq", description="its sequence in REPORTS")
    deliveries: int = Field(alias="Warroom-Deliveries", description="how often it was delivered")
    traceparent: str | None = Field(
        default=None, description="the original message's W3C traceparent, if it had one"
    )
    tracestate: str | None = None

    def as_headers(self) -> dict[str, str]:
        values = self.model_dump(by_alias=True, exclude_none=True)
        return {k: str(v) for k, v in values.items()}


class EventHeaders(BaseModel):
    """The NATS headers of every event the outbox relay publishes."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    msg_id: str = Field(
        alias="Nats-Msg-Id", description="the event id: JetStream drops a republish of it"
    )
    traceparent: str | None = Field(
        default=None,
        description="W3C trace context of the request that caused the event (its span is the "
        "parent): `00-<trace id>-<span id>-<flags>`",
        pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
    )
    tracestate: str | None = Field(default=None, description="the caller's W3C tracestate")


class ReportEventHeaders(EventHeaders):
    """The NATS headers of a report event."""

    report_id: uuid.UUID = Field(alias="Warroom-Report-Id")
