import asyncio
import json
import signal
from typing import Any

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from tests.aggregator.events import Key, Reports, Vector, figures, in_scope, publish
from tests.aggregator.helpers import eventually
from tests.aggregator.live import sse_events
from tests.utils.apps import live_server, serve
from tests.utils.auth import bearer
from warroom_aggregator import changes, queries
from warroom_aggregator.api.routes.stream import _events
from warroom_aggregator.app import create_app
from warroom_aggregator.broadcast import Broadcaster
from warroom_aggregator.changes import ChangeFeed
from warroom_aggregator.events import Figures
from warroom_aggregator.settings import AggregatorSettings
from warroom_shared.domain import Sector
from warroom_shared.security.principal import AccessRole, Principal


def overall(truth: dict[Key, Vector], scope: str, code: str) -> dict[tuple[int, int], Vector]:
    """The figures a totals update must carry: per fiscal year and quarter, all programmes."""
    out: dict[tuple[int, int], Vector] = {}
    for (s, c, year, quarter, _, dimension), vector in truth.items():
        if in_scope(s, c, scope, code) and dimension == "":
            total = out.get((year, quarter), [0] * len(vector))
            out[(year, quarter)] = [a + b for a, b in zip(total, vector, strict=True)]
    return out


def figures_of(body: dict[str, Any]) -> Vector:
    return [body["reports"], body["households"], *(body["participants"][s] for s in Sector)]


VIEWER = Principal("test-viewer", AccessRole.NATIONAL_VIEWER)


async def test_stream_sends_latest_totals_as_server_sent_events(
    settings: AggregatorSettings, js: JetStreamContext
) -> None:
    reports = Reports()
    reports.lives(300)
    want = overall(reports.truth(), "national", "TH")
    seen: dict[tuple[int, int], Vector] = {}
    async with (
        live_server(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=10, headers=bearer()) as client,
        client.stream("GET", "/v1/stream", params={"scope": "national"}) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        await publish(js, reports.envelopes)
        async with asyncio.timeout(15):
            async for event, body in sse_events(response):
                if event == "totals":
                    assert body["scope"] == "national"
                    seen[(body["fiscal_year"], body["quarter"])] = figures_of(body)
                if seen == want:
                    break
    assert seen == want


async def test_stream_coalesces_rapid_changes_into_the_latest_state() -> None:
    broadcaster = Broadcaster()
    events = _events(broadcaster, VIEWER, None, interval=0.01, heartbeat=5.0)
    assert await anext(events) == "retry: 2000\n\n"
    for reports in range(100):
        body = {"scope": "national", "code": "TH", "reports": reports}
        broadcaster.update(("national", "TH", 2568, 2), json.dumps(body))
    broadcaster.update(("province", "10", 2568, 2), json.dumps({"scope": "province"}))

    first, second = await anext(events), await anext(events)
    broadcaster.close()
    rest = [e async for e in events]

    assert json.loads(first.removeprefix("event: totals\ndata: "))["reports"] == 99
    assert json.loads(second.removeprefix("event: totals\ndata: ")) == {"scope": "province"}
    assert rest == []


async def test_stream_sends_heartbeat_comment_when_quiet() -> None:
    broadcaster = Broadcaster()
    events = _events(broadcaster, VIEWER, None, interval=0.01, heartbeat=0.05)
    assert await anext(events) == "retry: 2000\n\n"
    assert await anext(events) == ": heartbeat\n\n"
    broadcaster.close()


def test_stream_wake_reads_only_the_changes_since_the_clients_version() -> None:
    broadcaster = Broadcaster()
    for n in range(10_000):
        broadcaster.update(("district", f"{n:04d}", 2568, 2), f"district {n}")
    clients = [broadcaster.since(0)[0] for _ in range(100)]  # connected: each has its snapshot

    broadcaster.update(("district", "0042", 2568, 2), "district 42 again")
    before = broadcaster.examined
    rounds = [broadcaster.since(version) for version in clients]

    assert rounds == [(10_001, ["district 42 again"])] * 100
    assert broadcaster.examined - before == 100  # one key a client, not 10,000


def test_stream_sends_each_changed_key_once_with_its_latest_payload() -> None:
    broadcaster = Broadcaster()
    broadcaster.update(("national", "TH", 2568, 2), "TH 1")
    version, _ = broadcaster.since(0)
    for n in (2, 3):
        broadcaster.update(("national", "TH", 2568, 2), f"TH {n}")
        broadcaster.update(("province", "10", 2568, 2), f"10 {n}")
    broadcaster.update(("district", "1001", 2568, 2), "1001")

    assert broadcaster.since(version) == (6, ["TH 3", "10 3", "1001"])
    assert broadcaster.since(version, "province") == (6, ["10 3"])
    assert broadcaster.since(6) == (6, [])


def test_stream_client_behind_the_change_log_gets_a_snapshot_of_its_scope() -> None:
    broadcaster = Broadcaster(window=4)
    broadcaster.update(("province", "10", 2568, 2), "10 old")
    broadcaster.update(("province", "50", 2568, 2), "50")
    version, _ = broadcaster.since(0)
    for n in range(6):
        broadcaster.update(("province", "10", 2568, 2), f"10 {n}")
        broadcaster.update(("national", "TH", 2568, 2), f"TH {n}")

    assert broadcaster.since(version, "province") == (14, ["10 5", "50"])
    assert broadcaster.since(version) == (14, ["10 5", "50", "TH 5"])


async def test_totals_updates_are_published_on_nats(
    aggregator: httpx.AsyncClient, js: JetStreamContext, nc: NATS
) -> None:
    latest: dict[tuple[str, int, int], dict[str, Any]] = {}

    async def on_update(msg: Msg) -> None:
        body = json.loads(msg.data)
        latest[(msg.subject, body["fiscal_year"], body["quarter"])] = body

    await nc.subscribe("warroom.totals.updated.>", cb=on_update)
    reports = Reports()
    reports.lives(300)
    truth = reports.truth()
    want = {
        (f"warroom.totals.updated.{scope}.{code}", year, quarter): vector
        for scope, code in (("national", "TH"), ("province", "10"), ("district", "5025"))
        for (year, quarter), vector in overall(truth, scope, code).items()
    }
    await publish(js, reports.envelopes)

    async def received() -> dict[tuple[str, int, int], Vector]:
        return {k: figures_of(latest[k]) for k in want if k in latest}

    await eventually(received, lambda got: got == want)

    body = latest[("warroom.totals.updated.province.10", 2568, 2)]
    assert (body["scope"], body["code"], body["programme"], body["dimension"]) == (
        "province", "10", None, None,
    )  # fmt: skip
    assert body["participants_total"] == sum(body["participants"].values())


async def test_feed_publishes_the_first_change_at_once_and_the_next_a_round_later(
    settings: AggregatorSettings, js: JetStreamContext, nc: NATS
) -> None:
    """Rounds an hour apart: a change after a quiet interval is published without waiting for
    one; a change counted meanwhile waits for the next round, which stopping brings forward."""
    national: list[int] = []  # reports of FY 2568 Q2, as each update said

    async def on_update(msg: Msg) -> None:
        body = json.loads(msg.data)
        if (body["fiscal_year"], body["quarter"]) == (2568, 2):
            national.append(body["reports"])

    await nc.subscribe("warroom.totals.updated.national.TH", cb=on_update)
    reports = Reports()
    reports.submit(figures("1001"))
    hourly = settings.model_copy(update={"publish_interval": 3600.0})
    async with serve(create_app(hourly)) as aggregator:

        async def counted() -> int:
            answer = await aggregator.get("/v1/totals", params={"fiscal_year": 2568, "quarter": 2})
            return int(answer.json()["reports"]) if answer.status_code == 200 else -1

        await publish(js, reports.envelopes)
        await eventually(lambda: asyncio.sleep(0, national), lambda got: got == [1])
        reports.submit(figures("5025"))
        await publish(js, reports.envelopes[1:])
        await eventually(counted, lambda n: n == 2)
        assert national == [1]  # counted, but not published before the round an hour on
    await eventually(lambda: asyncio.sleep(0, national), lambda got: got == [1, 2])


async def test_feed_spaces_rounds_out_only_while_consumer_is_behind(
    pool: asyncpg.Pool, nc: NATS, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind, a round waits until the last one took at most ROUND_SHARE of the time since it
    began; once the consumer has caught up, the next round goes out an interval on."""
    loop = asyncio.get_running_loop()
    rounds: list[float] = []  # when each round's query began

    async def slow_query(conn: asyncpg.Connection, keys: object) -> list[asyncpg.Record]:
        rounds.append(loop.time())
        await asyncio.sleep(0.05)
        return []

    monkeypatch.setattr(queries, "period_totals", slow_query)
    feed = ChangeFeed(pool, nc, interval=0.01)
    moved = [Figures("10", "1001", 2568, 2, "cast", [], {}, 0)]
    running = asyncio.create_task(feed.run())
    try:
        for count, behind in enumerate((True, True, False), 1):
            feed.mark(moved, behind)
            await eventually(lambda: asyncio.sleep(0.06, len(rounds)), count.__le__)
    finally:
        feed.stop()
        await running
    took = 0.05
    assert rounds[1] - rounds[0] >= took / changes.ROUND_SHARE
    assert rounds[2] - rounds[1] < took / changes.ROUND_SHARE


async def test_exit_signal_ends_streams_then_does_what_it_did(settings: AggregatorSettings) -> None:
    # A handler of the test's own, not the one the suite inherited: a shell's background job
    # starts with SIGINT ignored, and asyncio's runner installs its own in a foreground run.
    received: list[int] = []

    def own(signum: int, _: object) -> None:
        received.append(signum)

    inherited = signal.signal(signal.SIGINT, own)
    try:
        app = create_app(settings.model_copy(update={"consumer_enabled": False}))
        async with serve(app):
            chained = signal.getsignal(signal.SIGINT)
            assert callable(chained)
            chained(signal.SIGINT, None)
            assert received == [signal.SIGINT]  # then did what it did
            broadcaster = app.state.aggregator.broadcaster
            events = _events(broadcaster, VIEWER, None, interval=0.01, heartbeat=5.0)
            await eventually(lambda: asyncio.sleep(0, broadcaster.closed), bool, timeout=5)
            assert [e async for e in events] == ["retry: 2000\n\n"]
        assert signal.getsignal(signal.SIGINT) is own
    finally:
        signal.signal(signal.SIGINT, inherited)
