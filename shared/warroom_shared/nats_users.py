"""The platform's NATS users and what each may publish and subscribe, declared once as data.

`authorization_config` renders them as a nats-server `authorization { users = [...] }` block, so
the embedded default, the tests and the deployment configuration grant the same permissions.
A process finds its user and password in `WARROOM_NATS_URL` (`nats://user:password@host:port`).

The subjects are exactly those the code uses through nats-py 2.x (`$JS.API.<verb>...` requests,
replies on `_INBOX.>`, acks on `$JS.ACK.<stream>.<consumer>.>`, flow control replies of ordered
consumers on `$JS.FC.<stream>.>`, KV puts on `$KV.<bucket>.<key>`). No user but the provisioner
may create, update, purge or delete a stream. Known gap: whoever may create a consumer chooses
its delivery subject, and nats-server does not check that against the creator's publish
permissions (nats-io/nats-server#8274), so the aggregator, the directory watchers (reporting,
aggregator) and the monitor could have the server deliver stream messages to another subject.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from warroom_shared.messaging import DISTRICTS_BUCKET, REGISTRY_STREAM, REPORTS_STREAM

JS_API = "$JS.API"
REPORTS = REPORTS_STREAM.name or "REPORTS"
REGISTRY = REGISTRY_STREAM.name or "REGISTRY"
REPORT_SUBJECTS = "warroom.report.>"
REGISTRY_SUBJECTS = "warroom.registry.>"
TOTALS_SUBJECTS = "warroom.totals.updated.>"
# The aggregator's names (`warroom_aggregator.topology`): the shared package imports no service,
# and the permission tests fail if these differ.
DEAD_LETTER_SUBJECT = "warroom.deadletter.aggregator"
DEAD_LETTER_STREAM = "AGGREGATOR_DEADLETTER"
AGGREGATOR_CONSUMER = "aggregator"  # its durable consumer on REPORTS
INBOX = "_INBOX.>"  # replies to requests (JetStream API, publish acks) and pull deliveries

_BUCKET = DISTRICTS_BUCKET.bucket
_BUCKET_STREAM = f"KV_{_BUCKET}"


def _watch_directory() -> tuple[str, ...]:
    """Read the district directory with `kv.watchall()`: an ephemeral ordered push consumer."""
    return (
        f"{JS_API}.STREAM.INFO.{_BUCKET_STREAM}",
        f"{JS_API}.CONSUMER.CREATE.{_BUCKET_STREAM}",
        f"{JS_API}.CONSUMER.INFO.{_BUCKET_STREAM}.*",
        f"$JS.FC.{_BUCKET_STREAM}.>",
    )


def _tail(stream: str, subjects: str) -> tuple[str, ...]:
    """Follow a stream with a named pull consumer that expires when idle (`AckPolicy.NONE`,
    read with `puller.Puller`). Only the create subject that names the consumer: with the
    unnamed one (`$JS.API.CONSUMER.CREATE.<stream>`, which nats-py's ordered push consumer
    uses) the server takes the name from the request and would let it reconfigure any
    consumer."""
    return (
        f"{JS_API}.CONSUMER.CREATE.{stream}.*.{subjects}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.*",
        f"{JS_API}.CONSUMER.INFO.{stream}.*",
    )


def _stream_info(*streams: str) -> tuple[str, ...]:
    """Read a stream's configuration and state: what `/readyz` asks of the streams a service
    uses (it changes nothing)."""
    return tuple(f"{JS_API}.STREAM.INFO.{stream}" for stream in streams)


def _not_the_aggregators() -> tuple[str, ...]:
    """Neither change the aggregator's durable consumer nor take messages from it."""
    return (
        f"{JS_API}.CONSUMER.CREATE.{REPORTS}.{AGGREGATOR_CONSUMER}.>",
        f"{JS_API}.CONSUMER.MSG.NEXT.{REPORTS}.{AGGREGATOR_CONSUMER}",
    )


@dataclass(frozen=True, slots=True)
class NatsUser:
    name: str
    purpose: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    publish_denied: tuple[str, ...] = ()  # exceptions to `publish`


REGISTRY_USER = NatsUser(
    "registry",
    "registry service: team events (outbox relay) and the district directory (KV puts)",
    publish=(
        REGISTRY_SUBJECTS,
        f"$KV.{_BUCKET}.>",
        f"{JS_API}.STREAM.INFO.{_BUCKET_STREAM}",
        f"{JS_API}.STREAM.MSG.GET.{_BUCKET_STREAM}",
        *_stream_info(REGISTRY),
    ),
    subscribe=(INBOX,),
)
REPORTING_USER = NatsUser(
    "reporting",
    "reporting service and `warroom relay`: report events; reads the district directory",
    publish=(REPORT_SUBJECTS, *_watch_directory(), *_stream_info(REPORTS)),
    subscribe=(INBOX,),
)
AGGREGATOR_USER = NatsUser(
    "aggregator",
    "aggregator service and `warroom aggregator rebuild`: consumes REPORTS through its durable "
    "consumer (or an ephemeral one to rebuild), publishes dead letters and total updates",
    publish=(
        TOTALS_SUBJECTS,
        DEAD_LETTER_SUBJECT,
        f"$JS.ACK.{REPORTS}.{AGGREGATOR_CONSUMER}.>",
        f"{JS_API}.CONSUMER.CREATE.{REPORTS}.*.{REPORT_SUBJECTS}",
        f"{JS_API}.CONSUMER.INFO.{REPORTS}.*",
        f"{JS_API}.CONSUMER.MSG.NEXT.{REPORTS}.*",
        *_stream_info(REPORTS, DEAD_LETTER_STREAM),
        *_watch_directory(),
    ),
    subscribe=(TOTALS_SUBJECTS, INBOX),
)
MONITOR_USER = NatsUser(
    "monitor",
    "monitoring (`warroom tail`): total updates and report and registry events, live or "
    "replayed from the streams through an ephemeral pull consumer; publishes no event",
    publish=(*_tail(REPORTS, REPORT_SUBJECTS), *_tail(REGISTRY, REGISTRY_SUBJECTS)),
    subscribe=(TOTALS_SUBJECTS, REPORT_SUBJECTS, REGISTRY_SUBJECTS, INBOX),
    publish_denied=_not_the_aggregators(),
)
PROVISIONER_USER = NatsUser(
    "provisioner",
    "`prepare` / `warroom migrate`: creates and updates streams, the KV bucket and the "
    "aggregator's durable consumer, publishes the district directory (administrator)",
    publish=(">",),
    subscribe=(">",),
)

USERS = (REGISTRY_USER, REPORTING_USER, AGGREGATOR_USER, MONITOR_USER, PROVISIONER_USER)


@dataclass(frozen=True, slots=True)
class EnvPassword:
    """A password that nats-server reads from its environment when it starts (`password: $NAME`),
    so that a committed configuration file holds no secret (the deployments in `deploy/`).
    nats-server parses the variable's value as a configuration value: letters and digits are
    safe (`openssl rand -hex 24`); a value that reads as a number or has a space stops it."""

    variable: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", self.variable):
            raise ValueError(f"not an environment variable name: {self.variable!r}")


def authorization_config(passwords: Mapping[str, str | EnvPassword]) -> str:
    """The nats-server `authorization` block granting every user its permissions.

    `passwords` maps each user name to its password (plain, or a bcrypt hash from
    `nats server passwd`) or to the environment variable holding it; a user without one is
    left out."""
    entries = []
    for user in USERS:
        if user.name not in passwords:
            continue
        deny = f", deny: {_list(user.publish_denied)}" if user.publish_denied else ""
        entries.append(
            f"    {{\n      user: {_quoted(user.name)}\n"
            f"      password: {_password(passwords[user.name])}\n"
            f"      # {user.purpose}\n"
            "      permissions: {\n"
            f"        publish: {{ allow: {_list(user.publish)}{deny} }}\n"
            f"        subscribe: {{ allow: {_list(user.subscribe)} }}\n"
            "      }\n    }"
        )
    return "authorization {\n  users = [\n" + "\n".join(entries) + "\n  ]\n}\n"


def url(server_url: str, user: str, password: str) -> str:
    """`nats://host:port` with a user's credentials: `nats://user:password@host:port`."""
    scheme, sep, rest = server_url.partition("://")
    if not sep:
        raise ValueError(f"not a NATS URL: {server_url}")
    return f"{scheme}://{user}:{password}@{rest.rpartition('@')[2]}"


def _password(value: str | EnvPassword) -> str:
    return f"${value.variable}" if isinstance(value, EnvPassword) else _quoted(value)


def _quoted(value: str) -> str:
    return json.dumps(value)  # a double-quoted string: `$` is no variable reference in quotes


def _list(subjects: tuple[str, ...]) -> str:
    return "[" + ", ".join(_quoted(s) for s in subjects) + "]"
