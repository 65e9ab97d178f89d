"""The W3C `traceparent` header: what is accepted, and the span a request gets."""

from __future__ import annotations

import pytest

from warroom_shared import tracing

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def test_a_valid_traceparent_is_continued_with_a_span_of_our_own() -> None:
    span = tracing.new_span({"Traceparent": f"00-{TRACE}-{PARENT}-01", "tracestate": "a=1"})

    assert (span.trace_id, span.parent_id, span.flags, span.state) == (TRACE, PARENT, "01", "a=1")
    assert len(span.span_id) == 16
    assert span.span_id != PARENT
    assert span.traceparent == f"00-{TRACE}-{span.span_id}-01"
    assert span.headers() == {"traceparent": span.traceparent, "tracestate": "a=1"}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"ff-{TRACE}-{PARENT}-01",  # version ff is invalid
        f"00-{'0' * 32}-{PARENT}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"00-{TRACE.upper()}-{PARENT}-01",  # upper case
        f"00-{TRACE}-{PARENT}-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE[:-1]}-{PARENT}-01",
    ],
)
def test_an_invalid_or_missing_traceparent_starts_a_new_trace(header: str | None) -> None:
    span = tracing.new_span({} if header is None else {"traceparent": header})

    assert span.parent_id is None
    assert span.trace_id != TRACE
    assert tracing.parse(span.traceparent) is not None


def test_a_later_version_may_add_fields() -> None:
    parent = tracing.parse(f"01-{TRACE}-{PARENT}-01-whatever")

    assert parent == tracing.Parent(TRACE, PARENT, "01")


def test_outside_a_request_events_carry_no_trace() -> None:
    assert tracing.current() is None
    assert tracing.propagation_headers() == {}
