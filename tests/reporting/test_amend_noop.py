"""An amendment that changes nothing: the report as it stands, no new version, no history entry,
no event; also with a stale If-Match, as when a client sends its amendment again after losing
the answer (RFC 9110, 13.1.1: the change asked for is already made)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as NATS

from tests.utils.apps import serve
from tests.utils.factories import report
from tests.utils.nats import collect
from warroom_reporting import SCHEMA
from warroom_reporting.app import create_app
from warroom_reporting.settings import ReportingSettings


@pytest.fixture
async def without_relay(reporting_settings: ReportingSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Reporting whose outbox rows stay where they are written: no relay publishes them."""
    app = create_app(reporting_settings.model_copy(update={"relay_enabled": False}))
    async with serve(app) as client:
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        yield client


def _content(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {k: v for k, v in {**body, **changes}.items() if k != "report_id"}


async def _outbox_rows(database_url: str) -> int:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        rows: int = await conn.fetchval("SELECT count(*) FROM outbox")
        return rows
    finally:
        await conn.close()


async def test_amend_report_with_its_own_content_changes_nothing(
    without_relay: httpx.AsyncClient, database_url: str
) -> None:
    body = report()
    assert (await without_relay.post("/v1/reports", json=body)).status_code == 201
    url = f"/v1/reports/{body['report_id']}"
    before = (await without_relay.get(url)).json()

    same = await without_relay.put(url, json=_content(body), headers={"If-Match": '"1"'})

    assert same.status_code == 200, same.text
    assert same.headers["ETag"] == '"1"'
    assert same.json() == before  # updated_at included: the row was not written
    assert len((await without_relay.get(f"{url}/history")).json()) == 1
    assert await _outbox_rows(database_url) == 1  # the submission's event only


async def test_amend_report_stale_if_match_with_the_current_content_answers_it(
    without_relay: httpx.AsyncClient, database_url: str
) -> None:
    body = report()
    await without_relay.post("/v1/reports", json=body)
    url = f"/v1/reports/{body['report_id']}"
    changed = _content(body, households=20)
    first = await without_relay.put(url, json=changed, headers={"If-Match": '"1"'})
    assert first.headers["ETag"] == '"2"'

    # the first answer lost, the client sends it again with the ETag it had
    again = await without_relay.put(url, json=changed, headers={"If-Match": '"1"'})
    other = await without_relay.put(
        url, json=_content(body, households=30), headers={"If-Match": '"1"'}
    )

    assert again.status_code == 200, again.text
    assert again.headers["ETag"] == '"2"'
    assert again.json() == first.json()
    assert other.status_code == 412  # other content on a stale version: a lost update
    assert other.headers["ETag"] == '"2"'
    history = (await without_relay.get(f"{url}/history")).json()
    assert [h["action"] for h in history] == ["submitted", "amended"]
    assert await _outbox_rows(database_url) == 2


async def test_amend_report_with_its_own_content_publishes_no_event(
    reporting: httpx.AsyncClient, nc: NATS
) -> None:
    body = report()
    await reporting.post("/v1/reports", json=body)
    url = f"/v1/reports/{body['report_id']}"
    assert (
        await reporting.put(url, json=_content(body), headers={"If-Match": '"1"'})
    ).status_code == 200
    changed = await reporting.put(
        url, json=_content(body, households=5), headers={"If-Match": '"1"'}
    )
    assert changed.headers["ETag"] == '"2"'

    events = await collect(nc, "REPORTS", "warroom.report.>", 2)
    stream = await nc.jetstream().stream_info("REPORTS")

    # the relay publishes in the order events were stored: an event of the no-op would come
    # between these two
    assert [(subject, e["data"]["version"]) for subject, e, _ in events] == [
        ("warroom.report.submitted.12.1201", 1),
        ("warroom.report.amended.12.1201", 2),
    ]
    assert events[1][1]["data"]["old"]["households"] == 12
    assert stream.state.messages == 2
