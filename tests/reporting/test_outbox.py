"""Accepted means published: exactly once per event, through NATS outages, with several relays."""

import asyncio

import httpx
import nats
from nats.aio.client import Client as NATS

from tests.utils.apps import serve
from tests.utils.factories import report
from tests.utils.nats import collect
from warroom_cli.embedded import EmbeddedNats
from warroom_registry.prepare import prepare as prepare_registry
from warroom_registry.settings import RegistrySettings
from warroom_reporting.app import create_app
from warroom_reporting.prepare import prepare
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db, messaging
from warroom_shared.outbox import OutboxRelay


async def _stream_count(nc: NATS) -> int:
    info = await nc.jetstream().stream_info("REPORTS")
    return int(info.state.messages)


async def _wait_for(predicate: object, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_every_accepted_report_reaches_stream_once(
    reporting: httpx.AsyncClient, nc: NATS
) -> None:
    bodies = [report() for _ in range(30)]
    for body in bodies:
        assert (await reporting.post("/v1/reports", json=body)).status_code == 201
    for body in bodies[:10]:  # resends are answered, never published again
        assert (await reporting.post("/v1/reports", json=body)).status_code == 200
    events = await collect(nc, "REPORTS", "warroom.report.>", 30)
    ids = [e[1]["data"]["report_id"] for e in events]
    assert sorted(ids) == sorted(b["report_id"] for b in bodies)
    assert await _stream_count(nc) == 30

    async def outbox_empty() -> bool:  # rows are deleted just after the stream's ack
        return (await reporting.get("/v1/outbox")).json() == {"rows": 0, "oldest_age_seconds": 0.0}

    await _wait_for(outbox_empty)


async def test_nats_outage_loses_nothing(database_url: str, own_nats: EmbeddedNats) -> None:
    await prepare_registry(RegistrySettings(database_url=database_url, nats_url=own_nats.url))
    settings = ReportingSettings(database_url=database_url, nats_url=own_nats.url)
    await prepare(settings)
    app = create_app(settings)
    async with serve(app) as client:
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        before = [report() for _ in range(5)]
        for body in before:
            assert (await client.post("/v1/reports", json=body)).status_code == 201
        own_nats.stop()
        during = [report() for _ in range(20)]
        for body in during:
            assert (await client.post("/v1/reports", json=body)).status_code == 201
        backlog = (await client.get("/v1/outbox")).json()
        assert backlog["rows"] >= 20
        own_nats.start()
        probe = await nats.connect(own_nats.url)
        try:
            await _wait_for(lambda: _stream_count(probe), 20)

            async def all_published() -> bool:
                return await _stream_count(probe) == 25

            await _wait_for(all_published, 30)
            events = await collect(probe, "REPORTS", "warroom.report.>", 25)
        finally:
            await probe.close()
        assert {e[1]["data"]["report_id"] for e in events} == {
            b["report_id"] for b in before + during
        }

        async def outbox_empty() -> bool:
            return (await client.get("/v1/outbox")).json()["rows"] == 0

        await _wait_for(outbox_empty)


async def test_two_relays_publish_each_row_once(
    reporting_settings: ReportingSettings, nc: NATS
) -> None:
    settings = reporting_settings.model_copy(update={"relay_enabled": False})
    app = create_app(settings)
    async with serve(app) as client:
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        lines = b"\n".join(httpx.Request("POST", "/", json=report()).content for _ in range(2000))
        r = await client.post(
            "/v1/reports:bulk", content=lines, headers={"Content-Type": "application/x-ndjson"}
        )
        assert r.json()["created"] == 2000, r.text[:500]
    pool = await db.create_pool(settings.database_url, "reporting")
    try:
        js = nc.jetstream()
        relays = [OutboxRelay(pool, nc, batch_size=50) for _ in range(2)]
        tasks = [asyncio.create_task(relay.run()) for relay in relays]

        async def drained() -> bool:
            return bool(await pool.fetchval("SELECT count(*) = 0 FROM outbox"))

        await _wait_for(drained, 30)
        for relay in relays:
            relay.stop()
        await asyncio.gather(*tasks)
    finally:
        await pool.close()
    assert sum(relay.published for relay in relays) == 2000
    assert all(relay.published > 0 for relay in relays)
    assert await _stream_count(nc) == 2000
    await messaging.ensure_topology(js)  # idempotent, and leaves the messages alone
    assert await _stream_count(nc) == 2000
