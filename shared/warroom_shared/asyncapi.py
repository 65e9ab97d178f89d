"""The AsyncAPI 3.0 document of the platform's NATS subjects, generated from the event models.

Each event's message is the CloudEvents envelope (`events.Envelope`) with its `type` fixed and its
`data` the event's own model; headers, the totals updates, the dead letters and the district
directory have models of their own in `events`. Every service serves this document at
`/asyncapi.json`; `docs/asyncapi.json` is a copy that the test suite regenerates and compares,
so it cannot drift from the models (`warroom asyncapi` or `make asyncapi` writes it again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model
from pydantic.json_schema import models_json_schema

from warroom_shared import messaging
from warroom_shared.events import (
    REPORT_EVENTS,
    DeadLetterHeaders,
    DirectoryDistrict,
    Envelope,
    Event,
    EventHeaders,
    ReportEventHeaders,
    TeamCreated,
    TeamMemberAssigned,
    TeamMemberRemoved,
    TotalsUpdated,
    VillageDesignated,
    VillageUndesignated,
)

VERSION = "1.0.0"
SCHEMAS = "#/components/schemas/{model}"
SERVICES = {"registry.team": "registry", "registry.village": "registry", "report": "reporting"}
DEAD_LETTER_SUBJECT = "warroom.deadletter.aggregator"  # the aggregator's (see nats_users)
DEAD_LETTER_STREAM = "AGGREGATOR_DEADLETTER"

PARAMETERS: dict[str, dict[str, Any]] = {
    "province": {"description": "Province code, 2 digits", "examples": ["10", "50"]},
    "district": {"description": "District code, 4 digits", "examples": ["1001", "5001"]},
    "scope": {"description": "Which totals", "enum": ["national", "province", "district"]},
    "code": {"description": "Province or district code; `TH` for national", "examples": ["TH"]},
}


@dataclass(frozen=True)
class Channel:
    id: str
    address: str
    title: str
    description: str
    message: dict[str, Any]
    sender: str
    receivers: tuple[str, ...] = ()
    stream: str | None = None


def _camel(*parts: str) -> str:
    words = [w for p in parts for w in p.replace(".", "_").split("_") if w]
    return words[0] + "".join(w.title() for w in words[1:])


def envelope_model(event: type[Event]) -> type[BaseModel]:
    """The envelope of one event type: `type` fixed, `data` the event's model."""
    fixed: Any = Literal[event.event_type()]  # a type made at run time
    model: type[BaseModel] = create_model(
        f"{event.__name__}Envelope",
        __base__=Envelope,
        __doc__=f"CloudEvents 1.0 envelope of `{event.event_type()}`.",
        type=(fixed, ...),
        data=(event, Field(description=(event.__doc__ or "").strip() or None)),
    )
    return model


def _stream_of(subject: str) -> str:
    for config in messaging.STREAMS:
        for pattern in config.subjects or ():
            if subject.startswith(pattern.removesuffix(">")):
                return config.name or ""
    raise ValueError(f"no stream captures {subject}")


def _event_channels() -> tuple[list[Channel], list[type[BaseModel]]]:
    registry: tuple[type[Event], ...] = (
        TeamCreated, TeamMemberAssigned, TeamMemberRemoved, VillageDesignated, VillageUndesignated,
    )  # fmt: skip
    channels: list[Channel] = []
    models: list[type[BaseModel]] = []
    for event in (*registry, *REPORT_EVENTS.values()):
        envelope = envelope_model(event)
        headers = ReportEventHeaders if event.DOMAIN == "report" else EventHeaders
        models += [envelope, headers]
        address = f"warroom.{event.DOMAIN}.{event.NAME}.{{province}}.{{district}}"
        stream = _stream_of(address)
        receivers = ("aggregator",) if event.DOMAIN == "report" else ()
        channels.append(
            Channel(
                id=_camel(event.DOMAIN, event.NAME),
                address=address,
                title=event.event_type(),
                description=(
                    f"{(event.__doc__ or event.__name__).strip()} Stored in the JetStream "
                    f"stream `{stream}`; published through the {SERVICES[event.DOMAIN]} "
                    "service's transactional outbox with `Nats-Msg-Id` = the event id."
                ),
                message={
                    "name": event.__name__,
                    "title": event.event_type(),
                    "contentType": "application/json",
                    "headers": {"$ref": SCHEMAS.format(model=headers.__name__)},
                    "payload": {"$ref": SCHEMAS.format(model=envelope.__name__)},
                    "correlationId": {
                        "description": "W3C trace context of the request that caused it",
                        "location": "$message.header#/traceparent",
                    },
                },
                sender=SERVICES[event.DOMAIN],
                receivers=receivers,
                stream=stream,
            )
        )
    return channels, models


def _other_channels() -> list[Channel]:
    bucket = messaging.DISTRICTS_BUCKET.bucket
    return [
        Channel(
            id="totalsUpdated",
            address="warroom.totals.updated.{scope}.{code}",
            title="totals updated",
            description=(
                "Core NATS (no stream): the latest totals of each scope and code that changed, "
                "coalesced (at most one message per scope and code per publish interval)."
            ),
            message={
                "name": "TotalsUpdated",
                "contentType": "application/json",
                "payload": {"$ref": SCHEMAS.format(model=TotalsUpdated.__name__)},
            },
            sender="aggregator",
            receivers=("aggregator",),
        ),
        Channel(
            id="deadLetter",
            address=DEAD_LETTER_SUBJECT,
            title="aggregator dead letters",
            description=(
                "Report events the aggregator could never count, with the reason, kept in the "
                f"stream `{DEAD_LETTER_STREAM}` (90 days) and in its `dead_letters` table."
            ),
            message={
                "name": "DeadLetter",
                "contentType": "application/octet-stream",
                "headers": {"$ref": SCHEMAS.format(model=DeadLetterHeaders.__name__)},
                "payload": {
                    "type": "string",
                    "format": "binary",
                    "description": "the original message's data, as it was",
                },
                "correlationId": {
                    "description": "W3C trace context of the original event",
                    "location": "$message.header#/traceparent",
                },
            },
            sender="aggregator",
            stream=DEAD_LETTER_STREAM,
        ),
        Channel(
            id="districtDirectory",
            address=f"$KV.{bucket}.{{district}}",
            title="district directory",
            description=(
                f"JetStream KV bucket `{bucket}`: key = district code, value = the district, "
                "its province and its subdistricts. Written by the registry, watched by "
                "reporting and the aggregator."
            ),
            message={
                "name": "DirectoryDistrict",
                "contentType": "application/json",
                "payload": {"$ref": SCHEMAS.format(model=DirectoryDistrict.__name__)},
            },
            sender="registry",
            receivers=("reporting", "aggregator"),
            stream=f"KV_{bucket}",
        ),
    ]


@cache
def _document() -> str:
    event_channels, models = _event_channels()
    channels = [*event_channels, *_other_channels()]
    models += [TotalsUpdated, DeadLetterHeaders, DirectoryDistrict]
    unique = list(dict.fromkeys(models))
    _, top = models_json_schema(
        [(m, "serialization") for m in unique], ref_template=SCHEMAS, title="warroom"
    )
    schemas = {**top.get("$defs", {})}
    doc: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CAST War Room events",
            "version": VERSION,
            "description": (
                "Every NATS subject of the CAST War Room platform and what travels on it. "
                "Subjects are a public API: events are only ever added to; a breaking change "
                "is a new `.v2` type. Events never carry names, phones or e-mails."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "{host}",
                "protocol": "nats",
                "description": "The platform's NATS (JetStream); each process has its own user.",
                "variables": {"host": {"default": "127.0.0.1:44222"}},
            }
        },
        "channels": {},
        "operations": {},
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "parameters": PARAMETERS,
        },
    }
    for channel in channels:
        params = [p for p in PARAMETERS if f"{{{p}}}" in channel.address]
        body: dict[str, Any] = {
            "address": channel.address,
            "title": channel.title,
            "description": channel.description,
            "messages": {channel.id: channel.message},
        }
        if params:
            body["parameters"] = {p: {"$ref": f"#/components/parameters/{p}"} for p in params}
        if channel.stream:
            body["x-warroom-stream"] = channel.stream
        doc["channels"][channel.id] = body
        message_ref = [{"$ref": f"#/channels/{channel.id}/messages/{channel.id}"}]
        name = channel.id[0].upper() + channel.id[1:]
        doc["operations"][f"{channel.sender}Send{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel.id}"},
            "messages": message_ref,
            "summary": f"The {channel.sender} service publishes it.",
        }
        for receiver in channel.receivers:
            doc["operations"][f"{receiver}Receive{name}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel.id}"},
                "messages": message_ref,
                "summary": f"The {receiver} service consumes it.",
            }
    return render(doc)


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def document() -> dict[str, Any]:
    """The document (a fresh copy: callers may change it)."""
    loaded: dict[str, Any] = json.loads(_document())
    return loaded


def text() -> str:
    """The document as `docs/asyncapi.json` holds it."""
    return _document()


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text(), encoding="utf-8")
