"""Each service connects to NATS as its own user (`warroom_shared.nats_users`): its real code
paths work with that user's permissions, and whatever lies outside them is refused by the
server: a permissions violation reported to the client, and nothing delivered or stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import stat
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.errors
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

import warroom_registry
import warroom_reporting
from tests.utils.factories import report
from warroom_aggregator.app import create_app as create_aggregator
from warroom_aggregator.prepare import prepare as prepare_aggregator
from warroom_aggregator.rebuild import rebuild
from warroom_aggregator.settings import AggregatorSettings
from warroom_aggregator.state import State
from warroom_aggregator.topology import CONSUMER, DEAD_LETTER_STREAM, consumer_config
from warroom_cli.platform import nats_passwords, redacted
from warroom_registry import directory, geography, teams, villages
from warroom_registry.app import create_app as create_registry
from warroom_registry.programme import ProgrammeScope
from warroom_registry.settings import RegistrySettings
from warroom_registry.villages import VillageDesignate
from warroom_reporting import store
from warroom_reporting.app import create_app as create_reporting
from warroom_reporting.models import ReportIn
from warroom_reporting.prepare import prepare as prepare_reporting
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db, messaging, nats_users
from warroom_shared.nats_users import REGISTRY, REPORTS

from .conftest import SecuredNats

SERVICES = ("registry", "reporting", "aggregator")
REPORT_SUBJECT = "warroom.report.submitted.10.1001"
TEAM_SUBJECT = "warroom.registry.team.created.10.1001"
VILLAGE_SUBJECT = "warroom.registry.village.designated.50.5001"
TOTALS_SUBJECT = "warroom.totals.updated.national.TH"
DIRECTORY_KEY = "$KV.warroom_districts.1001"


@dataclass
class Client:
    """A connection that keeps the errors the server reports to it."""

    nc: NATS
    errors: list[Exception]

    def js(self, timeout: float = 5.0) -> JetStreamContext:
        return self.nc.jetstream(timeout=timeout)

    async def refused(self, action: str, subject: str, timeout: float = 5.0) -> None:
        """Wait for the server's permissions violation for `action` ("publish" or
        "subscription") to `subject` (nats-py reports it lower-cased)."""
        expected = f'permissions violation for {action} to "{subject}"'.lower()
        await _until(lambda: any(expected in str(e) for e in self.errors), timeout)
        assert all(isinstance(e, nats.errors.Error) for e in self.errors)


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[Client]:
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(url, error_cb=on_error, max_reconnect_attempts=0)
    try:
        yield Client(nc, errors)
    finally:
        await nc.close()


async def _until(done: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not done within {timeout}s")
        await asyncio.sleep(0.02)  # polling interval of a bounded wait, not a synchronisation


# nats-py's `flush()` is no barrier for what the client has sent: its PING can overtake a SUB
# or PUB still in the client's buffer. A message delivered back is one.


async def _echoed(sub: Subscription, client: Client) -> None:
    """Once `client` receives its own message on `sub`, the server has `sub`."""
    await client.nc.publish(sub.subject, b"echo")
    assert (await sub.next_msg(timeout=5)).data == b"echo"


async def _nothing_received(sub: Subscription, listener: Client) -> None:
    """Nothing that reached the server before the listener's PING has arrived (the server
    answers PONG after what it delivered before)."""
    await listener.nc.flush()
    with pytest.raises(nats.errors.TimeoutError):
        await sub.next_msg(timeout=0.2)


async def _tail(monitor: Client, stream: str, subjects: str, count: int) -> list[str]:
    """Read a stream from its start as a `warroom tail` would: an ephemeral pull consumer that
    needs no acks."""
    config = ConsumerConfig(ack_policy=AckPolicy.NONE, inactive_threshold=30.0)
    sub = await monitor.js().pull_subscribe(subjects, stream=stream, config=config)
    seen: list[str] = []
    try:
        while len(seen) < count:
            seen += [m.subject for m in await sub.fetch(count - len(seen), timeout=5)]
    finally:
        await sub.unsubscribe()
    return seen


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """A service's app with its lifespan (NATS connection, relay, consumer) and no HTTP."""
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def service_nats_errors() -> Iterator[list[str]]:
    """What `messaging.connect` logs of the errors the server reports to a service."""
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Keep(logging.WARNING)
    logger = logging.getLogger(messaging.__name__)
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)


async def test_each_service_works_as_its_own_user(
    secured_nats: SecuredNats, database_url: str, service_nats_errors: list[str]
) -> None:
    urls = secured_nats.urls
    settings = AggregatorSettings(
        database_url=database_url, nats_url=urls["aggregator"], fetch_timeout=0.2,
        ack_wait=5.0, retry_delay=0.05, publish_interval=0.05,
    )  # fmt: skip
    # The provisioner prepares, as `warroom up` and a migration job do: streams, bucket, consumer.
    provisioner = urls["provisioner"]
    await prepare_reporting(ReportingSettings(database_url=database_url, nats_url=provisioner))
    await prepare_aggregator(settings.model_copy(update={"nats_url": provisioner}))

    registry_db = await db.connect(database_url, warroom_registry.SCHEMA)
    reporting_db = await db.connect(database_url, warroom_reporting.SCHEMA)
    async with connected(urls["registry"]) as registry, connected(urls["monitor"]) as monitor:
        geo = await geography.Geography.read(registry_db)
        written = await directory.publish(registry.js(), registry_db, geo, ProgrammeScope())
        assert written == len(geo.districts) == 928
        totals = await monitor.nc.subscribe(nats_users.TOTALS_SUBJECTS)
        reporting_app = create_reporting(
            ReportingSettings(database_url=database_url, nats_url=urls["reporting"])
        )
        aggregator_app = create_aggregator(settings)
        async with (
            running(create_registry(
                RegistrySettings(database_url=database_url, nats_url=urls["registry"])
            )),
            running(reporting_app),
            running(aggregator_app),
        ):  # fmt: skip
            state: State = aggregator_app.state.aggregator
            # The reporting service reads the directory that the registry published.
            await asyncio.wait_for(reporting_app.state.directory.ready.wait(), 10)
            # A team's event goes out through the registry's relay...
            await teams.create_team(registry_db, "1001", "10", 2568)
            # ...as does a village's designation, whose directory entry the registry writes.
            village = VillageDesignate(village_no=3, name="บ้านหนองบัว")
            chiang_mai = geo.districts["5001"]
            await villages.designate(registry_db, chiang_mai, 2568, "500101", village)
            await directory.republish_district(
                registry.js(), registry_db, geo, ProgrammeScope(), chiang_mai
            )
            directory_of_reporting = reporting_app.state.directory
            await _until(lambda: directory_of_reporting.designated("5001", 2568, "500101", 3))
            # ...a report's through reporting's relay, into the aggregator's totals...
            phra_nakhon = report(district_code="1001", subdistrict_code="100101")
            await store.submit(
                reporting_db, [(ReportIn.model_validate(phra_nakhon), "10", "test", {})]
            )
            await _until(lambda: state.consumer.stats.applied == 1)
            # ...which publishes their new figures to monitors and to its own live stream.
            updates = {(await totals.next_msg(timeout=10)).subject for _ in range(3)}
            assert updates == {
                "warroom.totals.updated.district.1001",
                "warroom.totals.updated.province.10",
                TOTALS_SUBJECT,
            }
            await _until(lambda: state.broadcaster.version >= 3)
            # An event that can never be counted is dead-lettered to its stream, and acked.
            async with connected(urls["reporting"]) as reporting:
                await reporting.js().publish(REPORT_SUBJECT, b"not an event")
            await _until(lambda: state.consumer.stats.dead_lettered == 1)
        # The monitor replays both streams with consumers of its own.
        registry_events = await _tail(monitor, REGISTRY, nats_users.REGISTRY_SUBJECTS, 2)
        assert registry_events == [TEAM_SUBJECT, VILLAGE_SUBJECT]
        assert await _tail(monitor, REPORTS, nats_users.REPORT_SUBJECTS, 2) == [REPORT_SUBJECT] * 2
        info = await monitor.js().consumer_info(REPORTS, CONSUMER)
        assert (info.num_pending, info.num_ack_pending, info.num_redelivered) == (0, 0, 0)
    await registry_db.close()
    await reporting_db.close()

    async with connected(provisioner) as admin:
        letters = await admin.js().stream_info(DEAD_LETTER_STREAM.name or "")
        assert letters.state.messages == 1
    # `warroom aggregator rebuild` replays REPORTS as the aggregator.
    assert await rebuild(settings) == 1
    assert not [m for m in service_nats_errors if "violation" in m], service_nats_errors


# Core NATS publishes: what each user may publish reaches a subscriber, what it may not is
# refused and reaches no one.
PUBLISHES = [
    ("registry", TEAM_SUBJECT, True),
    ("registry", VILLAGE_SUBJECT, True),
    ("registry", DIRECTORY_KEY, True),
    ("registry", REPORT_SUBJECT, False),
    ("registry", TOTALS_SUBJECT, False),
    ("reporting", REPORT_SUBJECT, True),
    ("reporting", TEAM_SUBJECT, False),
    ("reporting", VILLAGE_SUBJECT, False),
    ("reporting", "warroom.registry.x", False),
    ("reporting", TOTALS_SUBJECT, False),
    ("reporting", DIRECTORY_KEY, False),
    ("aggregator", TOTALS_SUBJECT, True),
    ("aggregator", nats_users.DEAD_LETTER_SUBJECT, True),
    ("aggregator", REPORT_SUBJECT, False),
    ("aggregator", TEAM_SUBJECT, False),
    ("aggregator", DIRECTORY_KEY, False),
    ("aggregator", "warroom.deadletter.other", False),
    ("monitor", TOTALS_SUBJECT, False),
    ("monitor", REPORT_SUBJECT, False),
    ("monitor", TEAM_SUBJECT, False),
    ("monitor", nats_users.DEAD_LETTER_SUBJECT, False),
    ("monitor", DIRECTORY_KEY, False),
    ("monitor", "anything", False),
]


@pytest.mark.parametrize(("user", "subject", "allowed"), PUBLISHES)
async def test_a_user_publishes_only_its_own_subjects(
    secured_nats: SecuredNats, user: str, subject: str, allowed: bool
) -> None:
    async with (
        connected(secured_nats.url("provisioner")) as listener,
        connected(secured_nats.url(user)) as publisher,
    ):
        sub = await listener.nc.subscribe(subject)
        await _echoed(sub, listener)
        await publisher.nc.publish(subject, b"{}")
        if allowed:
            assert (await sub.next_msg(timeout=5)).data == b"{}"
            assert publisher.errors == []
        else:
            await publisher.refused("publish", subject)
            await _nothing_received(sub, listener)


SUBSCRIPTIONS = [
    ("monitor", "warroom.totals.updated.>", TOTALS_SUBJECT, True),
    ("monitor", "warroom.report.>", REPORT_SUBJECT, True),
    ("monitor", "warroom.registry.>", TEAM_SUBJECT, True),
    ("monitor", "warroom.deadletter.>", nats_users.DEAD_LETTER_SUBJECT, False),
    ("monitor", "$KV.warroom_districts.>", DIRECTORY_KEY, False),
    ("monitor", ">", TOTALS_SUBJECT, False),
    ("aggregator", "warroom.totals.updated.>", TOTALS_SUBJECT, True),
    ("aggregator", "warroom.registry.>", TEAM_SUBJECT, False),
    ("reporting", "warroom.totals.updated.>", TOTALS_SUBJECT, False),
    ("reporting", "warroom.registry.>", TEAM_SUBJECT, False),
    ("registry", "warroom.report.>", REPORT_SUBJECT, False),
]


@pytest.mark.parametrize(("user", "subscription", "subject", "allowed"), SUBSCRIPTIONS)
async def test_a_user_subscribes_only_to_what_it_reads(
    secured_nats: SecuredNats, user: str, subscription: str, subject: str, allowed: bool
) -> None:
    async with (
        connected(secured_nats.url(user)) as listener,
        connected(secured_nats.url("provisioner")) as publisher,
    ):
        sub = await listener.nc.subscribe(subscription)
        if allowed:  # published until the subscription has reached the server
            for _ in range(50):
                await publisher.nc.publish(subject, b"{}")
                with contextlib.suppress(nats.errors.TimeoutError):
                    assert (await sub.next_msg(timeout=0.1)).subject == subject
                    break
            else:
                raise AssertionError(f"{user} received nothing on {subscription}")
            assert listener.errors == []
        else:
            await listener.refused("subscription", subscription)
            # The publisher's own copy: once it has it, so would the listener's subscription.
            await _echoed(await publisher.nc.subscribe(subject), publisher)
            await _nothing_received(sub, listener)


@pytest.mark.parametrize(
    ("user", "subject", "stream"),
    [
        ("reporting", TEAM_SUBJECT, REGISTRY),
        ("registry", REPORT_SUBJECT, REPORTS),
        ("aggregator", REPORT_SUBJECT, REPORTS),
        ("monitor", REPORT_SUBJECT, REPORTS),
        ("monitor", TEAM_SUBJECT, REGISTRY),
    ],
)
async def test_a_refused_event_is_not_stored(
    secured_nats: SecuredNats, user: str, subject: str, stream: str
) -> None:
    async with (
        connected(secured_nats.url("provisioner")) as admin,
        connected(secured_nats.url(user)) as client,
    ):
        await messaging.ensure_topology(admin.js())
        with pytest.raises(nats.errors.TimeoutError):  # no stream acknowledges it
            await client.js().publish(subject, b"{}", timeout=0.5)
        await client.refused("publish", subject)
        assert (await admin.js().stream_info(stream)).state.messages == 0
        # The stream does take the event from its own service.
        owner = "registry" if stream == REGISTRY else "reporting"
        async with connected(secured_nats.url(owner)) as service:
            ack = await service.js().publish(subject, b"{}")
        assert (ack.stream, ack.seq) == (stream, 1)


async def _delete(js: JetStreamContext) -> object:
    return await js.delete_stream(REPORTS)


async def _purge(js: JetStreamContext) -> object:
    return await js.purge_stream(REPORTS)


async def _shrink(js: JetStreamContext) -> object:
    return await js.update_stream(
        StreamConfig(name=REPORTS, subjects=["warroom.report.>"], max_msgs=1)
    )


async def _capture(js: JetStreamContext) -> object:
    return await js.add_stream(StreamConfig(name="CAPTURE", subjects=["warroom.totals.>"]))


STREAM_CHANGES = [
    (_delete, f"$JS.API.STREAM.DELETE.{REPORTS}"),
    (_purge, f"$JS.API.STREAM.PURGE.{REPORTS}"),
    (_shrink, f"$JS.API.STREAM.UPDATE.{REPORTS}"),
    (_capture, "$JS.API.STREAM.CREATE.CAPTURE"),
]


@pytest.mark.parametrize("user", [*SERVICES, "monitor"])
async def test_only_the_provisioner_changes_streams(secured_nats: SecuredNats, user: str) -> None:
    async with (
        connected(secured_nats.url("provisioner")) as admin,
        connected(secured_nats.url(user)) as client,
    ):
        await messaging.ensure_topology(admin.js())
        await admin.js().publish(REPORT_SUBJECT, b"{}")
        for change, subject in STREAM_CHANGES:
            with pytest.raises(nats.errors.TimeoutError):
                await change(client.js(timeout=0.5))
            await client.refused("publish", subject)
        info = await admin.js().stream_info(REPORTS)
        assert (info.state.messages, info.config.max_msgs) == (1, -1)
        names = sorted(s.config.name or "" for s in await admin.js().streams_info())
        assert names == sorted(["KV_warroom_districts", REPORTS, REGISTRY])


async def test_the_monitor_cannot_touch_the_aggregators_consumer(
    secured_nats: SecuredNats,
) -> None:
    settings = AggregatorSettings(nats_url=secured_nats.url("provisioner"))
    async with (
        connected(secured_nats.url("provisioner")) as admin,
        connected(secured_nats.url("monitor")) as monitor,
    ):
        js = admin.js()
        await messaging.ensure_topology(js)
        await js.add_consumer(REPORTS, consumer_config(settings))
        await js.publish(REPORT_SUBJECT, b"{}")
        mon = monitor.js(timeout=0.5)
        # Neither reconfigure it (this one would drop every message after one delivery)...
        hijack = ConsumerConfig(
            name=CONSUMER, durable_name=CONSUMER, filter_subject="warroom.report.>", max_deliver=1
        )
        with pytest.raises(nats.errors.TimeoutError):
            await mon.add_consumer(REPORTS, hijack)
        await monitor.refused(
            "publish", f"$JS.API.CONSUMER.CREATE.{REPORTS}.{CONSUMER}.warroom.report.>"
        )
        # ...nor take its messages...
        sub = await mon.pull_subscribe_bind(CONSUMER, stream=REPORTS)
        with pytest.raises(nats.errors.TimeoutError):
            await sub.fetch(1, timeout=0.5)
        await monitor.refused("publish", f"$JS.API.CONSUMER.MSG.NEXT.{REPORTS}.{CONSUMER}")
        # ...nor create a consumer without naming it (the server would take the name, and so
        # the consumer to change, from the request).
        with pytest.raises(nats.errors.TimeoutError):
            await mon.subscribe(REPORT_SUBJECT, stream=REPORTS, ordered_consumer=True)
        await monitor.refused("publish", f"$JS.API.CONSUMER.CREATE.{REPORTS}")
        info = await js.consumer_info(REPORTS, CONSUMER)
        assert (info.config.max_deliver, info.num_pending, info.delivered.stream_seq) == (
            settings.max_deliver,
            1,
            0,
        )
        # Its own ephemeral consumer reads the stream.
        assert await _tail(monitor, REPORTS, nats_users.REPORT_SUBJECTS, 1) == [REPORT_SUBJECT]


def test_embedded_passwords_are_private_and_kept(tmp_path: Path) -> None:
    passwords = nats_passwords(tmp_path)
    assert set(passwords) == {u.name for u in nats_users.USERS}
    assert len(set(passwords.values())) == len(passwords)
    kept = tmp_path / "secrets" / "nats.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert nats_passwords(tmp_path) == passwords  # reused on restart


def test_a_shown_url_has_no_password() -> None:
    url = nats_users.url("nats://127.0.0.1:44222", "reporting", "s3cret-Pw_x")
    assert url == "nats://reporting:s3cret-Pw_x@127.0.0.1:44222"
    assert redacted(url) == "nats://reporting:***@127.0.0.1:44222"
    assert (
        redacted("postgresql://app:s3cret@db:5432/warroom")
        == "postgresql://app:***@db:5432/warroom"
    )
    assert redacted("nats://127.0.0.1:44222") == "nats://127.0.0.1:44222"
