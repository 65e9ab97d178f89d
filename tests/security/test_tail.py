"""`warroom tail` as the `monitor` NATS user on a server with every user's permissions: it prints
only the events its subject matches, replays older ones with --since, and never touches the
aggregator's durable consumer."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerInfo

from tests.aggregator.events import figures, submitted
from tests.security.conftest import SecuredNats
from warroom_aggregator import topology
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.tail import intersect, parse_since
from warroom_shared.events import Envelope

WARROOM = os.path.join(os.path.dirname(sys.executable), "warroom")
BANGKOK = "warroom.report.*.10.>"


@pytest.fixture
async def users(secured_nats: SecuredNats) -> AsyncIterator[dict[str, NATS]]:
    """The streams and the aggregator's consumer (as `warroom migrate` makes them), and a
    connection per user."""
    clients = {
        name: await nats.connect(secured_nats.url(name))
        for name in ("provisioner", "reporting", "registry")
    }
    await topology.provision(clients["provisioner"].jetstream(), AggregatorSettings())
    yield clients
    for client in clients.values():
        await client.close()


async def post(reporting: NATS, district: str) -> Envelope:
    """A report event published the way the relay publishes it, as the reporting user."""
    import uuid

    envelope = submitted(uuid.uuid4(), figures(district=district))
    await reporting.jetstream().publish(
        envelope.subject, envelope.model_dump_json().encode(),
        headers={"Nats-Msg-Id": str(envelope.id)},
    )  # fmt: skip
    return envelope


def _state(info: ConsumerInfo) -> tuple[Any, ...]:
    return (info.num_pending, info.num_ack_pending, info.delivered, info.ack_floor)


def _lines(output: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.decode().splitlines() if line.strip()]


async def test_tail_replays_then_follows_only_matching_events_as_the_monitor(
    secured_nats: SecuredNats, users: dict[str, NATS]
) -> None:
    reporting, js = users["reporting"], users["provisioner"].jetstream()
    older = [await post(reporting, d) for d in ("5001", "1001", "5025", "1050", "5001")]
    await users["registry"].jetstream().publish("warroom.registry.team.created.10.1001", b"{}")
    aggregators = _state(await js.consumer_info(topology.REPORTS, topology.CONSUMER))
    env = {**os.environ, "WARROOM_NATS_URL": secured_nats.url("monitor")}

    # --since: the older Bangkok reports (and no other), replayed in order.
    replay = subprocess.run(
        [WARROOM, "tail", BANGKOK, "--since", "10m", "--json", "--count", "2"],
        env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr.decode()
    replayed = _lines(replay.stdout)

    # Live: only what is published after it started, and only Bangkok's.
    replays = {c.name for c in await js.consumers_info(topology.REPORTS)}
    live = await asyncio.create_subprocess_exec(
        WARROOM, "tail", BANGKOK, "--json", "--count", "1",
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        tails = await _new_consumers(js, replays)
        newer = [await post(reporting, "5001"), await post(reporting, "1002")]
        out, err = await asyncio.wait_for(live.communicate(), 60)
    finally:
        if live.returncode is None:
            live.kill()
            await live.wait()
    assert live.returncode == 0, err.decode()
    followed = _lines(out)

    assert [line["data"]["id"] for line in replayed] == [str(older[1].id), str(older[3].id)]
    assert [line["subject"] for line in replayed] == [older[1].subject, older[3].subject]
    assert all(line["stream"] == "REPORTS" for line in replayed)
    assert [line["data"]["id"] for line in followed] == [str(newer[1].id)]
    assert followed[0]["headers"]["Nats-Msg-Id"] == str(newer[1].id)
    # Its consumer: named, no acks, removed by the server when idle, filtered to Bangkok.
    assert [t.name.startswith("tail-") for t in tails] == [True]
    config = tails[0].config
    assert config.ack_policy == AckPolicy.NONE
    assert config.inactive_threshold is not None
    assert config.inactive_threshold > 0
    assert config.filter_subject == "warroom.report.*.10.>"
    assert config.durable_name is None
    # The aggregator's consumer saw nothing of it: the two newer reports are pending there.
    after = _state(await js.consumer_info(topology.REPORTS, topology.CONSUMER))
    assert after[1:] == aggregators[1:]
    assert after[0] == aggregators[0] + 2


async def _new_consumers(js: Any, known: set[str]) -> list[ConsumerInfo]:
    """The consumers of REPORTS not `known` before, once there is one (the replay's consumer
    lingers until the server removes it)."""
    async with asyncio.timeout(30):
        while True:
            found = [c for c in await js.consumers_info(topology.REPORTS) if c.name not in known]
            if found:
                return found
            await asyncio.sleep(0.05)


async def test_tail_follows_every_subject_by_default_as_the_monitor(
    secured_nats: SecuredNats, users: dict[str, NATS]
) -> None:
    """`warroom.>`: both streams through consumers of its own, and the live total updates."""
    js = users["provisioner"].jetstream()
    env = {**os.environ, "WARROOM_NATS_URL": secured_nats.url("monitor")}
    known = {c.name for c in await js.consumers_info(topology.REPORTS)}
    tail = await asyncio.create_subprocess_exec(
        WARROOM, "tail", "--json", "--count", "2",
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        await _new_consumers(js, known)
        async with asyncio.timeout(30):  # its REGISTRY consumer too
            while not await js.consumers_info("REGISTRY"):
                await asyncio.sleep(0.05)
        await users["registry"].jetstream().publish("warroom.registry.team.created.10.1001", b"{}")
        await post(users["reporting"], "5001")
        out, err = await asyncio.wait_for(tail.communicate(), 60)
    finally:
        if tail.returncode is None:
            tail.kill()
            await tail.wait()

    assert tail.returncode == 0, err.decode()
    assert sorted(line["stream"] for line in _lines(out)) == ["REGISTRY", "REPORTS"]


async def test_tail_refuses_a_subject_that_matches_no_event(secured_nats: SecuredNats) -> None:
    env = {**os.environ, "WARROOM_NATS_URL": secured_nats.url("monitor")}
    answer = subprocess.run(
        [WARROOM, "tail", "warroom.deadletter.>"], env=env, capture_output=True, timeout=30,
        check=False,
    )  # fmt: skip

    assert answer.returncode != 0
    assert "matches no event subject" in answer.stderr.decode()


@pytest.mark.parametrize(
    ("a", "b", "both"),
    [
        ("warroom.>", "warroom.report.>", "warroom.report.>"),
        ("warroom.report.*.10.>", "warroom.report.>", "warroom.report.*.10.>"),
        ("warroom.*.*.10.>", "warroom.report.>", "warroom.report.*.10.>"),
        ("warroom.*.submitted.10.1001", "warroom.report.>", "warroom.report.submitted.10.1001"),
        ("warroom.registry.>", "warroom.report.>", None),
        ("warroom.report", "warroom.report.>", None),  # `>` needs at least one more token
        (">", "warroom.totals.updated.>", "warroom.totals.updated.>"),
    ],
)
def test_intersect_gives_the_subjects_two_patterns_share(a: str, b: str, both: str | None) -> None:
    assert intersect(a, b) == both
    assert intersect(b, a) == both


def test_since_takes_a_duration_or_an_iso_time() -> None:
    now = dt.datetime(2025, 2, 14, 3, 0, tzinfo=dt.UTC)

    assert parse_since("10m", now) == now - dt.timedelta(minutes=10)
    assert parse_since("2h", now) == now - dt.timedelta(hours=2)
    assert parse_since("2025-02-14T09:00+07:00", now) == dt.datetime(2025, 2, 14, 2, tzinfo=dt.UTC)
