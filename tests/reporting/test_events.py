"""What a report's events carry: the figures of the buckets it counts in, with its stages, month,
village and the day it was first received (the same in every version, for timeliness)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import asyncpg
import httpx
from nats.aio.client import Client as NATS

from tests.utils.factories import report
from tests.utils.nats import collect
from warroom_reporting import SOURCE, events, store
from warroom_reporting.models import ReportIn
from warroom_shared.domain import Sector
from warroom_shared.events import Envelope, ReportFigures, ReportSubmitted
from warroom_shared.fiscal import BANGKOK

NDJSON = {"Content-Type": "application/x-ndjson"}
RETRACTION = {"reason": "ซ้ำกับรายงานอื่น", "retracted_by": {"name": "ก", "position": "ข"}}


async def _received_day(reporting: httpx.AsyncClient, report_id: object) -> str:
    stored = (await reporting.get(f"/v1/reports/{report_id}")).json()
    return dt.datetime.fromisoformat(stored["received_at"]).astimezone(BANGKOK).date().isoformat()


def _figures(events: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[dict[str, Any]]:
    return [e[1]["data"]["figures"] for e in events]


async def test_submitted_event_carries_stages_month_village_and_day_received(
    reporting: httpx.AsyncClient, nc: NATS
) -> None:
    single = report(stages=["think", "benefit"], activity_date="2025-03-31", village_no=9)
    bulk = report(stages=["talk"], activity_date="2025-01-02", subdistrict_code=None,
                  village_no=None)  # fmt: skip
    assert (await reporting.post("/v1/reports", json=single)).status_code == 201
    lines = await reporting.post("/v1/reports:bulk", content=json.dumps(bulk), headers=NDJSON)
    assert lines.json()["created"] == 1

    posted, imported = _figures(await collect(nc, "REPORTS", "warroom.report.submitted.>", 2))

    assert (posted["stages"], posted["month"], posted["quarter"]) == (["think", "benefit"], 3, 2)
    assert (posted["subdistrict_code"], posted["village_no"]) == ("120101", 9)
    assert posted["received_on"] == await _received_day(reporting, single["report_id"])
    assert (imported["stages"], imported["month"]) == (["talk"], 1)
    assert (imported["subdistrict_code"], imported["village_no"]) == (None, None)
    assert imported["received_on"] == await _received_day(reporting, bulk["report_id"])


async def test_every_version_carries_the_day_the_report_was_first_received(
    reporting: httpx.AsyncClient, nc: NATS, database_url: str
) -> None:
    body = report()
    assert (await reporting.post("/v1/reports", json=body)).status_code == 201
    # received at 00:30 on 2 March in Bangkok, which is still 1 March in UTC
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "reporting"})
    try:
        await conn.execute(
            "UPDATE reports SET received_at = '2025-03-01T17:30:00Z' WHERE report_id = $1",
            body["report_id"],
        )
    finally:
        await conn.close()
    url = f"/v1/reports/{body['report_id']}"
    changed = {k: v for k, v in body.items() if k != "report_id"}
    changed |= {"stages": ["act", "benefit"], "activity_date": "2025-04-02"}
    assert (await reporting.put(url, json=changed, headers={"If-Match": '"1"'})).status_code == 200
    retracted = await reporting.request("DELETE", url, json=RETRACTION)
    assert retracted.status_code == 200

    _, amended, gone = [e[1]["data"] for e in await collect(nc, "REPORTS", "warroom.report.>", 3)]

    days = {
        amended["old"]["received_on"],
        amended["new"]["received_on"],
        gone["old"]["received_on"],
    }
    assert days == {"2025-03-02"}
    assert (amended["old"]["stages"], amended["old"]["month"]) == (["talk", "act"], 2)
    assert (amended["new"]["stages"], amended["new"]["month"]) == (["act", "benefit"], 4)
    assert (gone["old"]["stages"], gone["old"]["month"]) == (["act", "benefit"], 4)


def test_submitted_event_is_written_as_its_models_write_it() -> None:
    """A new report's event is written straight from the report, without building the event's
    models: byte for byte what they write, with every field of its figures."""
    at = dt.datetime.now(tz=dt.UTC)
    bodies = [
        report(),
        report(subdistrict_code=None, village_no=None, households=None, title='"ก": ข\\ค\n'),
        report(programme="sustainable_village", stages=["benefit"], dimensions=["safety"]),
    ]
    for body in bodies:
        content = ReportIn.model_validate(body)
        figures = events.figures(content, "12", events.received_day(at))
        assert list(figures) == list(ReportFigures.model_fields)
        assert list(figures["participants"]) == list(Sector)  # every sector, in their order
        event = ReportSubmitted(
            province_code="12", district_code=content.district_code,
            report_id=content.report_id, version=1, figures=figures,
        )  # fmt: skip
        event_id, subject, payload, headers = store.submitted_event(content, "12", at, {"a": "b"})
        envelope = Envelope.wrap(event, SOURCE, event_id).model_copy(update={"time": at})
        assert payload == envelope.model_dump_json().encode()
        assert (subject, headers) == (event.subject(), {"a": "b"})
