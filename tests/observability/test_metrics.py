"""`/metrics` of real services on real PostgreSQL and NATS: requests by route template and status,
the outbox backlog and the relay's publishing, the aggregator's consumer, dead letters and SSE
clients, and one sum over every uvicorn worker in multiprocess mode."""

from __future__ import annotations

import asyncio
import glob
import os
import uuid
from pathlib import Path

import httpx
from nats.js import JetStreamContext
from prometheus_client.mmap_dict import MmapedDict

from tests.aggregator.events import Reports, publish
from tests.aggregator.helpers import eventually, wait_drained
from tests.observability.conftest import value
from tests.utils.apps import Platform, live_server, serve
from tests.utils.auth import bearer
from tests.utils.factories import report
from tests.utils.processes import service_env, warroom
from warroom_aggregator.app import create_app as create_aggregator
from warroom_cli.embedded import serving
from warroom_reporting.app import create_app as create_reporting
from warroom_shared.security.principal import AccessRole

REQUESTS = "warroom_http_requests_total"


async def scrape(client: httpx.AsyncClient) -> str:
    answer = await client.get("/metrics", headers=bearer(AccessRole.MONITOR))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


async def test_metrics_count_requests_by_route_template_and_status(platform: Platform) -> None:
    app = create_reporting(platform.reporting)
    async with serve(app) as client:
        before = await scrape(client)
        for _ in range(2):
            assert (await client.get(f"/v1/reports/{uuid.uuid4()}")).status_code == 404
        assert (await client.get("/no/such/path")).status_code == 404
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
        anonymous = client.build_request("GET", "/metrics")
        del anonymous.headers["authorization"]
        assert (await client.send(anonymous)).status_code == 401
        officer = bearer(AccessRole.DISTRICT_OFFICER)
        assert (await client.get("/metrics", headers=officer)).status_code == 403
        after = await scrape(client)

    route = "/v1/reports/{report_id}"
    assert value(before, REQUESTS, method="GET", route=route, status="404") is None
    assert value(after, REQUESTS, method="GET", route=route, status="404") == 2
    assert value(after, REQUESTS, method="GET", route="unmatched", status="404") == 1
    assert value(after, REQUESTS, method="GET", route="/docs", status="200") == 1
    assert value(after, REQUESTS, method="GET", route="/openapi.json", status="200") == 1
    assert value(after, REQUESTS, method="GET", route="/metrics", status="401") == 1
    assert value(after, REQUESTS, method="GET", route="/metrics", status="403") == 1
    latency = "warroom_http_request_duration_seconds"
    assert value(after, f"{latency}_count", method="GET", route=route) == 2
    assert value(after, f"{latency}_bucket", method="GET", route=route, le="+Inf") == 2
    assert "/v1/reports/" + "0" not in after  # never a raw path as a label


async def test_metrics_show_the_outbox_backlog_and_what_a_relay_of_its_own_published(
    platform: Platform,
) -> None:
    """The relay run on its own (`warroom relay`, no HTTP port), as the deployments run it: the
    service's /metrics shows its work, read from the database."""
    held = platform.reporting.model_copy(update={"relay_enabled": False})
    app = create_reporting(held)
    async with serve(app) as client:
        await asyncio.wait_for(app.state.directory.ready.wait(), 10)
        for _ in range(3):
            assert (await client.post("/v1/reports", json=report())).status_code == 201
        waiting = await scrape(client)
        env = service_env(held.database_url, held.nats_url)
        with warroom("relay", env=env):
            published = await eventually(
                lambda: scrape(client),
                lambda text: value(text, "warroom_outbox_backlog_rows") == 0,
            )

    assert value(waiting, "warroom_outbox_backlog_rows") == 3
    oldest = value(waiting, "warroom_outbox_oldest_age_seconds")
    assert oldest is not None
    assert oldest > 0
    assert value(waiting, "warroom_outbox_published_total") == 0
    assert value(waiting, "warroom_metrics_source_up", source="outbox") == 1
    assert value(published, "warroom_outbox_published_total") == 3
    assert value(published, "warroom_outbox_oldest_age_seconds") == 0
    assert value(published, "warroom_outbox_publish_failures_total") == 0


async def test_metrics_show_the_consumer_before_and_after_events_are_consumed(
    platform: Platform, js: JetStreamContext
) -> None:
    reports = Reports()
    reports.lives(20)
    await publish(js, reports.envelopes)
    await js.publish("warroom.report.submitted.10.1001", b"not an event")
    total = len(reports.envelopes) + 1
    api_only = platform.aggregator.model_copy(update={"consumer_enabled": False})
    reader = create_aggregator(api_only)
    async with serve(reader) as client:
        before = await scrape(client)
        # Stopped only once its directory watch has loaded: a watch stopped while it still
        # loads can hold the NATS drain up to its 30 s limit.
        await asyncio.wait_for(reader.state.aggregator.directory.ready.wait(), 10)
    async with serve(create_aggregator(platform.aggregator)) as client:
        await wait_drained(js)
        after = await eventually(
            lambda: scrape(client),
            lambda text: value(text, "warroom_aggregator_dead_lettered_total") == 1,
        )

    consumer = {"stream": "REPORTS", "consumer": "aggregator"}
    assert value(before, "warroom_consumer_pending_messages", **consumer) == total
    assert value(before, "warroom_consumer_ack_floor_stream_seq", **consumer) == 0
    assert value(after, "warroom_consumer_pending_messages", **consumer) == 0
    assert value(after, "warroom_consumer_ack_pending_messages", **consumer) == 0
    assert value(after, "warroom_consumer_redelivered_messages", **consumer) == 0
    assert value(after, "warroom_consumer_ack_floor_stream_seq", **consumer) == total
    events = "warroom_aggregator_events_total"
    assert value(after, events, outcome="applied") == len(reports.envelopes)
    assert value(after, events, outcome="duplicate") == 0
    assert value(after, "warroom_aggregator_batch_size_sum") == total
    batches = value(after, "warroom_aggregator_batch_size_count")
    assert batches is not None
    assert batches >= 1
    assert value(after, "warroom_aggregator_apply_seconds_count") == batches
    assert value(after, "warroom_aggregator_dead_letters") == 1
    assert value(after, "warroom_metrics_source_up", source="consumer") == 1


async def test_metrics_count_the_live_streams_clients(platform: Platform) -> None:
    app = create_aggregator(platform.aggregator)
    async with live_server(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        idle = await scrape(client)
        async with client.stream("GET", "/v1/stream", headers=bearer()) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()  # kept: a dropped iterator closes the stream
            assert (await anext(lines)).startswith("retry:")  # the stream has started
            watching = await scrape(client)
            await asyncio.sleep(1.0)  # a stream open for a while...
        left = await eventually(
            lambda: scrape(client), lambda text: value(text, "warroom_sse_clients") == 0
        )

    assert value(idle, "warroom_sse_clients") == 0
    assert value(watching, "warroom_sse_clients") == 1
    assert value(left, "warroom_sse_clients") == 0
    # ...counted once it ended, timed to its first byte
    latency = "warroom_http_request_duration_seconds"
    stream = {"method": "GET", "route": "/v1/stream"}
    assert value(watching, f"{latency}_count", **stream) is None
    assert value(left, f"{latency}_count", **stream) == 1
    took = value(left, f"{latency}_sum", **stream)
    assert took is not None
    assert took < 0.5


def _served_by(folder: Path, route: str) -> dict[str, float]:
    """Per worker (pid), the requests of `route` it counted in the multiprocess folder."""
    counted = {}
    for path in glob.glob(str(folder / "counter_*.db")):
        pid = Path(path).stem.removeprefix("counter_")
        for key, number, *_ in MmapedDict.read_all_values_from_file(path):
            if REQUESTS.removesuffix("_total") in key and f'"{route}"' in key and number:
                counted[pid] = counted.get(pid, 0) + number
    return counted


async def test_metrics_of_several_workers_add_up_in_every_scrape(
    platform: Platform, tmp_path: Path
) -> None:
    """uvicorn --workers 2 with PROMETHEUS_MULTIPROC_DIR: whichever worker answers a scrape, it
    shows the requests both counted."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = service_env(
        platform.registry.database_url, platform.registry.nats_url,
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    )  # fmt: skip
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # this process keeps its own registry
    with serving("warroom_registry.app:create_app", env, workers=2) as url:
        sent = 0
        # A new connection each request, so that both workers get some (bounded).
        while len(_served_by(folder, "/v1/provinces")) < 2 and sent < 400:
            async with httpx.AsyncClient(base_url=url, headers=bearer()) as client:
                assert (await client.get("/v1/provinces")).status_code == 200
            sent += 1
        scrapes = []
        for _ in range(6):
            async with httpx.AsyncClient(base_url=url) as client:
                scrapes.append(await scrape(client))

    assert len(_served_by(folder, "/v1/provinces")) == 2, "one worker served every request"
    counted = [
        value(s, REQUESTS, method="GET", route="/v1/provinces", status="200") for s in scrapes
    ]
    assert counted == [sent] * 6
