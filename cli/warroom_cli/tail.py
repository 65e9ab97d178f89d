"""`warroom tail [SUBJECT]`: the platform's events as they happen, or replayed from a time.

Each stream the subject touches (`REPORTS`, `REGISTRY`) is read through a consumer of the tail's
own: a pull consumer created with an explicit name (`tail-<random>`), as the `monitor` NATS user
may only create consumers through the API subject that names them (nats-py's ordered consumer
uses the unnamed form, which it refuses). It needs no acks (`AckPolicy.NONE`), is kept in memory
and removed by the server once the tail has stopped asking for a while (`inactive_threshold`),
so it never touches the aggregator's durable consumer nor leaves anything behind. Total updates
(`warroom.totals.updated.>`, core NATS) are followed live by a plain subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import nats
import typer
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from warroom_cli import servers
from warroom_cli.errors import Failure, on_nats_error
from warroom_shared import nats_users
from warroom_shared.puller import Puller

STREAMS = ((nats_users.REPORTS, nats_users.REPORT_SUBJECTS),
           (nats_users.REGISTRY, nats_users.REGISTRY_SUBJECTS))  # fmt: skip
TOTALS = nats_users.TOTALS_SUBJECTS
INACTIVE = 30.0  # seconds without a pull before the server removes a tail's consumer
FETCH_BATCH = 256
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def intersect(a: str, b: str) -> str | None:
    """The subjects both NATS patterns match, as one pattern (`warroom.*.*.10.>` and
    `warroom.report.>` give `warroom.report.*.10.>`), or None when they share none."""
    ta, tb = a.split("."), b.split(".")
    out: list[str] = []
    for i in range(max(len(ta), len(tb))):
        x = ta[i] if i < len(ta) else None
        y = tb[i] if i < len(tb) else None
        if x == ">":
            return ".".join(out + tb[i:]) if y is not None else None
        if y == ">":
            return ".".join(out + ta[i:]) if x is not None else None
        if x is None or y is None:
            return None
        if x == "*":
            out.append(y)
        elif y in ("*", x):
            out.append(x)
        else:
            return None
    return ".".join(out)


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """`10m`, `2h`, `1d`, `30s` ago, or an ISO 8601 time (without an offset: this machine's
    local time)."""
    now = now or dt.datetime.now(tz=dt.UTC)
    match = _DURATION.match(text.strip())
    if match:
        return now - dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            "give a duration (30s, 10m, 2h, 1d) or an ISO time (2025-02-14T09:00+07:00)",
            param_hint="--since",
        ) from None
    return (when if when.tzinfo else when.astimezone()).astimezone(dt.UTC)


@dataclass(frozen=True)
class Event:
    subject: str
    data: bytes
    headers: dict[str, str]
    stream: str | None = None
    seq: int | None = None
    time: dt.datetime | None = None

    def as_json(self) -> str:
        try:
            body: Any = json.loads(self.data)
        except ValueError:
            body = self.data.decode(errors="replace")
        out = {"subject": self.subject, "stream": self.stream, "seq": self.seq,
               "time": self.time.isoformat() if self.time else None,
               "headers": self.headers, "data": body}  # fmt: skip
        return json.dumps(out, ensure_ascii=False)

    def as_text(self) -> str:
        when = (self.time or dt.datetime.now(tz=dt.UTC)).astimezone().isoformat(timespec="seconds")
        where = f"{self.stream}#{self.seq}" if self.stream else "live"
        trace = self.headers.get("traceparent", "")
        trace_id = f" trace={trace.split('-')[1]}" if trace.count("-") >= 3 else ""
        return f"{when} {where} {self.subject}{trace_id} {self.data.decode(errors='replace')}"


def _event(msg: Msg, stream: str | None) -> Event:
    headers = dict(msg.headers or {})
    if stream is None:
        return Event(msg.subject, msg.data, headers)
    meta = msg.metadata
    return Event(msg.subject, msg.data, headers, stream, meta.sequence.stream, meta.timestamp)


def consumer_config(
    filter_subject: str, since: dt.datetime | None, start_seq: int | None = None
) -> ConsumerConfig:
    """A tail's consumer: named, unacknowledged, in memory, removed by the server when idle."""
    extra: dict[str, Any] = {}
    if start_seq is not None:
        policy, extra = DeliverPolicy.BY_START_SEQUENCE, {"opt_start_seq": start_seq}
    elif since is not None:
        policy, extra = DeliverPolicy.BY_START_TIME, {"opt_start_time": since}
    else:
        policy = DeliverPolicy.NEW
    return ConsumerConfig(
        name=f"tail-{secrets.token_hex(8)}",
        description="warroom tail",
        filter_subject=filter_subject,
        deliver_policy=policy,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=INACTIVE,
        mem_storage=True,
        num_replicas=1,
        **extra,
    )


class Tail:
    def __init__(
        self, nc: NATS, subject: str, since: dt.datetime | None, emit: Callable[[Event], None]
    ) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.subject = subject
        self.since = since
        self.emit = emit
        self.consumers: list[tuple[str, str]] = []  # (stream, consumer name), for the tests

    def plan(self) -> tuple[list[tuple[str, str]], bool]:
        """(stream, filter) of each stream the subject touches, and whether totals are live."""
        streams = [
            (stream, found)
            for stream, subjects in STREAMS
            if (found := intersect(self.subject, subjects)) is not None
        ]
        return streams, intersect(self.subject, TOTALS) is not None

    async def run(self) -> None:
        streams, totals = self.plan()
        if not streams and not totals:
            raise typer.BadParameter(
                f"{self.subject} matches no event subject (warroom.report.>, "
                "warroom.registry.>, warroom.totals.updated.>)",
                param_hint="SUBJECT",
            )
        tasks = [self._follow(stream, filt) for stream, filt in streams]
        if totals:
            live = intersect(self.subject, TOTALS)
            assert live is not None
            await self.nc.subscribe(live, cb=self._on_live)
        await asyncio.gather(*tasks) if tasks else await asyncio.Event().wait()

    async def _on_live(self, msg: Msg) -> None:
        self.emit(_event(msg, None))

    async def _follow(self, stream: str, filter_subject: str) -> None:
        last: int | None = None  # the last sequence printed: a consumer made anew goes on from it
        while True:
            config = consumer_config(filter_subject, self.since, None if last is None else last + 1)
            try:
                await self.js.add_consumer(stream, config)
            except Exception as exc:
                raise TailError(f"could not follow {stream}: {exc or type(exc).__name__}") from exc
            assert config.name is not None
            self.consumers.append((stream, config.name))
            puller = await Puller(self.nc, stream, config.name).start()
            try:
                last = await self._read(puller, stream, last)
            finally:
                await puller.stop()
            await asyncio.sleep(1)  # NATS away or the consumer removed: carry on anew

    async def _read(self, puller: Puller, stream: str, last: int | None) -> int | None:
        """Print what the consumer delivers until it fails; returns the last sequence printed."""
        while True:
            try:
                msgs = await puller.fetch(FETCH_BATCH, expires=5)
            except Exception:  # noqa: BLE001 - e.g. the server removed an idle consumer
                return last
            for msg in msgs:
                event = _event(msg, stream)
                last = event.seq
                self.emit(event)


class TailError(Exception):
    pass


def tail(
    subject: Annotated[
        str, typer.Argument(help="NATS subject pattern, e.g. 'warroom.report.*.10.>' (Bangkok)")
    ] = "warroom.>",
    since: Annotated[
        str | None,
        typer.Option(help="Replay from a time first: 10m, 2h, 1d ago or an ISO time"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line")] = False,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after this many events")] = None,
) -> None:
    """Print events live (and, with --since, replayed from that time) without disturbing any
    consumer of the platform. Connects as $WARROOM_NATS_URL (the `monitor` user may), else as
    the monitor of the embedded platform."""
    start = parse_since(since) if since else None

    url = servers.nats_url(nats_users.MONITOR_USER.name)

    async def main() -> None:
        await servers.check_nats(url, "warroom-tail")  # a refused user: one line, not retries
        nc = await nats.connect(
            [part.strip() for part in url.split(",")], name="warroom-tail",
            max_reconnect_attempts=-1, error_cb=on_nats_error,
        )  # fmt: skip
        done = asyncio.Event()
        seen = 0

        def emit(event: Event) -> None:
            nonlocal seen
            if done.is_set():
                return
            typer.echo(event.as_json() if as_json else event.as_text())
            seen += 1
            if count is not None and seen >= count:
                done.set()

        runner = asyncio.create_task(Tail(nc, subject, start, emit).run())
        waiter = asyncio.create_task(done.wait())
        try:
            finished, _ = await asyncio.wait({runner, waiter}, return_when="FIRST_COMPLETED")
            if runner in finished:
                try:
                    runner.result()  # what stopped it
                except TailError as exc:
                    raise Failure(str(exc), 1) from exc
        finally:
            for task in (runner, waiter):
                task.cancel()
            await asyncio.gather(runner, waiter, return_exceptions=True)
            await nc.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
