"""W3C Trace Context (`traceparent`, `tracestate`) carried from an HTTP request to its events.

A request that brings a valid `traceparent` continues that trace; one without starts a new trace.
Either way the request gets a span id of its own, which is the parent id of what it causes: the
`traceparent` written into the outbox row of each event it stores, which the relay publishes as a
NATS header, and which the consumer logs with what it applied. The trace and span ids of the
request are in every log line written while it is handled (`logging.py`).

No OpenTelemetry: its API without an SDK cannot start a trace (its no-op tracer only passes an
incoming context along, with no span id of our own), and the header is four fixed-width fields.
A deployment that adds an OpenTelemetry SDK reads and writes the same header.
"""

from __future__ import annotations

import contextvars
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# version-traceid-parentid-flags; a later version may append fields after another dash.
_TRACEPARENT = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<parent_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?P<rest>-.*)?$"
)
_MAX_TRACESTATE = 512  # the spec lets a receiver drop a tracestate it will not carry whole


@dataclass(frozen=True, slots=True)
class TraceContext:
    """One span of a trace: ours (`span_id`) and, when it continues a caller's, its parent."""

    trace_id: str
    span_id: str
    parent_id: str | None = None
    flags: str = "01"
    state: str | None = None  # the caller's `tracestate`, passed along unchanged

    @property
    def traceparent(self) -> str:
        """The header naming this span as the parent of what it causes."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def headers(self) -> dict[str, str]:
        """`traceparent` (and `tracestate`) for a message this span causes."""
        out = {TRACEPARENT: self.traceparent}
        if self.state:
            out[TRACESTATE] = self.state
        return out

    def log_fields(self) -> dict[str, str]:
        fields = {"trace_id": self.trace_id, "span_id": self.span_id}
        if self.parent_id is not None:
            fields["parent_span_id"] = self.parent_id
        return fields


@dataclass(frozen=True, slots=True)
class Parent:
    """A valid incoming `traceparent`: the trace it belongs to and the span that sent it."""

    trace_id: str
    parent_id: str
    flags: str


def parse(header: str | None) -> Parent | None:
    """A `traceparent` header, or None when it is absent or invalid (then a new trace starts)."""
    if not header:
        return None
    match = _TRACEPARENT.match(header.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.group(
        "version", "trace_id", "parent_id", "flags", "rest"
    )
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return Parent(trace_id, parent_id, flags)


def new_span(headers: Mapping[str, str] | None = None) -> TraceContext:
    """A span of our own: a child of the `traceparent` in `headers` if valid, else a new trace.

    Header names are matched without regard to case (HTTP lower-cases them, NATS keeps them)."""
    found = {k.lower(): v for k, v in (headers or {}).items()}
    parent = parse(found.get(TRACEPARENT))
    span_id = random_id(64)
    if parent is None:
        return TraceContext(random_id(128), span_id)
    state = found.get(TRACESTATE)
    if state is not None and (len(state) > _MAX_TRACESTATE or not state.strip()):
        state = None
    return TraceContext(parent.trace_id, span_id, parent.parent_id, parent.flags, state)


def random_id(bits: int) -> str:
    """`bits` random bits in hex, never all zeros (an invalid id). From `random`, as
    OpenTelemetry's SDK makes its trace and span ids: they need to be unique, not secret, and
    `secrets` costs a system call each (three of them on every request)."""
    value = 0
    while value == 0:
        value = random.getrandbits(bits)
    return f"{value:0{bits // 4}x}"


_current: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "warroom_trace", default=None
)


def current() -> TraceContext | None:
    """The span of the request being handled, if any."""
    return _current.get()


def use(span: TraceContext | None) -> contextvars.Token[TraceContext | None]:
    return _current.set(span)


def reset(token: contextvars.Token[TraceContext | None]) -> None:
    _current.reset(token)


def propagation_headers() -> dict[str, str]:
    """Headers carrying the current span to the events it causes (none outside a request)."""
    span = _current.get()
    return span.headers() if span is not None else {}
