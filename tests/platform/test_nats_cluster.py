"""A 3-node NATS JetStream cluster on loopback, the REPORTS stream at 3 replicas: one node is
killed during load (the stream's leader), and every accepted report still reaches the stream
exactly once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import nats
import nats.errors
import pytest
from fastapi import FastAPI

import warroom_registry.prepare
import warroom_reporting.prepare
from tests.utils.apps import serve
from tests.utils.factories import report
from tests.utils.nats import collect
from warroom_cli.embedded import ClusterNode, EmbeddedNats, free_port
from warroom_registry.settings import RegistrySettings
from warroom_reporting.app import create_app
from warroom_reporting.settings import ReportingSettings
from warroom_shared import messaging

REPORTS = 300
T = TypeVar("T")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, EmbeddedNats]]:
    routes = tuple(free_port() for _ in range(3))
    nodes = {
        f"n{i}": EmbeddedNats(
            tmp_path / f"n{i}", free_port(), node=ClusterNode("warroom", f"n{i}", routes[i], routes)
        )
        for i in range(3)
    }
    for node in nodes.values():
        node.start()
    try:
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()


async def _jetstream_ready(url: str) -> None:
    """Until the cluster has elected its JetStream meta leader."""
    nc = await nats.connect(url.split(","))
    try:
        async with asyncio.timeout(60):
            while True:
                try:
                    await nc.jetstream().account_info()
                    return
                except Exception:  # noqa: BLE001 - "no responders", "JetStream not ready", ...
                    await asyncio.sleep(0.2)
    finally:
        await nc.close()


async def settled(call: Callable[[], Awaitable[T]]) -> T:
    """`call` once the cluster answers again: right after a node dies, a JetStream request can
    time out while the stream elects its new leader (what the relay rides out by retrying)."""
    async with asyncio.timeout(60):
        while True:
            try:
                return await call()
            except nats.errors.TimeoutError:
                await asyncio.sleep(0.5)


@pytest.fixture
async def reporting_on_cluster(
    database_url: str, cluster: dict[str, EmbeddedNats]
) -> tuple[FastAPI, str]:
    url = ",".join(node.url for node in cluster.values())
    await _jetstream_ready(url)
    await warroom_registry.prepare.prepare(
        RegistrySettings(database_url=database_url, nats_url=url, stream_replicas=3)
    )
    settings = ReportingSettings(database_url=database_url, nats_url=url, stream_replicas=3)
    await warroom_reporting.prepare.prepare(settings)
    return create_app(settings), url


async def test_killing_the_stream_leader_during_load_loses_no_accepted_report(
    reporting_on_cluster: tuple[FastAPI, str], cluster: dict[str, EmbeddedNats]
) -> None:
    app, url = reporting_on_cluster
    bodies = [report(village_no=1 + i % 20) for i in range(REPORTS)]
    nc = await nats.connect(url.split(","), max_reconnect_attempts=-1)
    try:
        info = await nc.jetstream().stream_info(messaging.REPORTS_STREAM.name or "REPORTS")
        assert info.config.num_replicas == 3
        assert info.cluster is not None
        leader = info.cluster.leader
        assert leader in cluster
        async with serve(app) as client:
            await asyncio.wait_for(app.state.directory.ready.wait(), 30)

            async def post(i: int) -> int:
                if i == REPORTS // 3:  # a third of the way in: the leader dies, no goodbye
                    assert cluster[leader].proc is not None
                    cluster[leader].proc.send_signal(signal.SIGKILL)
                return (await client.post("/v1/reports", json=bodies[i])).status_code

            statuses = []
            for start in range(0, REPORTS, 20):  # 20 clients at a time
                statuses += await asyncio.gather(*(post(i) for i in range(start, start + 20)))
            assert statuses == [201] * REPORTS

            events = await settled(
                lambda: collect(nc, "REPORTS", "warroom.report.>", REPORTS, timeout=90)
            )
            async with asyncio.timeout(30):  # the relay deletes a batch's rows after its acks
                while (backlog := (await client.get("/v1/outbox")).json())["rows"]:
                    await asyncio.sleep(0.1)
        survivors = await settled(lambda: nc.jetstream().stream_info("REPORTS"))
    finally:
        await nc.close()

    assert sorted(e[1]["data"]["report_id"] for e in events) == sorted(
        b["report_id"] for b in bodies
    )
    assert survivors.state.messages == REPORTS  # each exactly once
    assert survivors.cluster is not None
    assert survivors.cluster.leader != leader
    assert backlog["rows"] == 0
