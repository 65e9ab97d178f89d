import httpx
from nats.js import JetStreamContext

from tests.aggregator.events import Reports, publish
from tests.aggregator.helpers import wait_drained
from warroom_aggregator.topology import CONSUMER, REPORTS


async def test_get_readyz_reports_each_dependency(
    aggregator: httpx.AsyncClient, js: JetStreamContext, directory_loaded: None
) -> None:
    """The consumer is shared by every replica: without it the pod stays ready and says so."""
    ready = await aggregator.get("/readyz")
    await js.delete_consumer(REPORTS, CONSUMER)
    without_consumer = await aggregator.get("/readyz")

    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["dependencies"] == {
        "database": True,
        "nats": True,
        "stream:REPORTS": True,
        "stream:AGGREGATOR_DEADLETTER": True,
        "stream:KV_warroom_districts": True,
        "consumer:REPORTS/aggregator": True,
    }
    assert without_consumer.status_code == 200
    assert without_consumer.json()["dependencies"]["consumer:REPORTS/aggregator"] is False
    assert without_consumer.json()["dependencies"]["database"] is True
    assert (await aggregator.get("/healthz")).status_code == 200


async def test_list_dead_letters_shows_count_and_reason(
    aggregator: httpx.AsyncClient, js: JetStreamContext
) -> None:
    reports = Reports()
    reports.lives(10)
    await publish(js, reports.envelopes)
    await js.publish("warroom.report.amended.10.1001", "ไม่ใช่ JSON".encode())
    await wait_drained(js)

    letters = (await aggregator.get("/v1/dead-letters")).json()
    consumer = (await aggregator.get("/v1/consumer")).json()

    assert letters["count"] == 1
    assert letters["items"][0]["subject"] == "warroom.report.amended.10.1001"
    assert letters["items"][0]["data"] == "ไม่ใช่ JSON"
    assert "JSON is malformed" in letters["items"][0]["reason"]
    assert consumer["replica"]["dead_lettered"] == 1
    assert consumer["replica"]["applied"] == len(reports.envelopes)
    assert (consumer["pending"], consumer["ack_pending"]) == (0, 0)
