"""A report followed from its POST to the totals by its W3C trace: the request's `traceparent`
(or a new trace) goes into the outbox row, out as a NATS header, and into the aggregator's log
line for what it applied, and a dead letter keeps it. Every log line of a request carries its
request id and trace."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import Depends
from nats.aio.client import Client as NATS

from tests.aggregator.helpers import eventually
from tests.observability.conftest import LogLines
from tests.utils.apps import Platform, live_server, serve
from tests.utils.factories import report
from tests.utils.nats import collect
from warroom_aggregator.app import create_app as create_aggregator
from warroom_registry.app import create_app as create_registry
from warroom_reporting.app import create_app as create_reporting
from warroom_shared import tracing
from warroom_shared.asyncapi import envelope_model
from warroom_shared.events import (
    DeadLetterHeaders,
    EventHeaders,
    ReportEventHeaders,
    ReportSubmitted,
    TeamCreated,
)
from warroom_shared.security.access import PUBLIC

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = "00f067aa0ba902b7"  # the caller's span
TRACEPARENT = f"00-{TRACE}-{CALLER}-01"


def caller(trace_id: str) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-{CALLER}-01"}


async def logged(log_lines: LogLines, found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first log line `found` accepts, waiting for it."""
    lines = await eventually(
        lambda: asyncio.sleep(0, log_lines.lines()), lambda ls: any(found(line) for line in ls)
    )
    return next(line for line in lines if found(line))


def access_line(lines: list[dict[str, Any]], response: httpx.Response) -> dict[str, Any]:
    rid = response.headers["x-request-id"]
    (line,) = [x for x in lines if x["logger"] == "warroom.access" and x.get("request_id") == rid]
    return line


async def test_a_reports_trace_goes_from_its_post_through_nats_to_the_aggregators_log(
    platform: Platform, nc: NATS, log_lines: LogLines
) -> None:
    reporting_app = create_reporting(platform.reporting)
    aggregator_app = create_aggregator(platform.aggregator)
    log_lines.attach()
    async with serve(reporting_app) as reporting, serve(aggregator_app):
        await asyncio.wait_for(reporting_app.state.directory.ready.wait(), 10)
        posted = await reporting.post(
            "/v1/reports", json=report(),
            headers={"traceparent": TRACEPARENT, "tracestate": "dopa=1"},
        )  # fmt: skip
        assert posted.status_code == 201
        [(_, envelope, headers)] = await collect(nc, "REPORTS", "warroom.report.>", 1)
        applied = await logged(
            log_lines,
            lambda line: any(e["id"] == envelope["id"] for e in line.get("events", ())),
        )
    request = access_line(log_lines.lines(), posted)

    # The request continued the caller's trace with a span of its own...
    assert (request["trace_id"], request["parent_span_id"]) == (TRACE, CALLER)
    span = request["span_id"]
    assert span != CALLER
    # ...which is the parent of its event, on NATS...
    assert headers["traceparent"] == f"00-{TRACE}-{span}-01"
    assert headers["tracestate"] == "dopa=1"
    assert ReportEventHeaders.model_validate(headers).msg_id == envelope["id"]
    assert envelope_model(ReportSubmitted).model_validate(envelope)
    # ...and of what the aggregator applied.
    assert applied["logger"] == "warroom_aggregator.consumer"
    assert (applied["trace_id"], applied["parent_span_id"]) == (TRACE, span)
    assert applied["events"][0]["subject"] == envelope["subject"]


async def test_every_change_carries_the_trace_of_its_request(
    platform: Platform, nc: NATS, log_lines: LogLines
) -> None:
    """Amendments, retractions and bulk lines (stored in the request's own task, not by group
    commit), registry events, and a request without a traceparent (a new trace)."""
    traces = {name: f"{i:032x}" for i, name in enumerate(("amend", "retract", "bulk", "team"), 1)}
    reporting_app = create_reporting(platform.reporting)
    registry_app = create_registry(platform.registry)
    log_lines.attach()
    submitted, lines = report(), [report(), report()]
    async with serve(reporting_app) as reporting, serve(registry_app) as registry:
        await asyncio.wait_for(reporting_app.state.directory.ready.wait(), 10)
        untraced = await reporting.post("/v1/reports", json=submitted)
        content = {k: v for k, v in submitted.items() if k != "report_id"} | {"households": 7}
        rid = submitted["report_id"]
        amended = await reporting.put(
            f"/v1/reports/{rid}",
            json=content,
            headers={"If-Match": '"1"', **caller(traces["amend"])},
        )
        retracted = await reporting.request(
            "DELETE", f"/v1/reports/{rid}", headers=caller(traces["retract"]),
            json={"reason": "ซ้ำ", "retracted_by": {"name": "ก", "position": "ข"}},
        )  # fmt: skip
        bulk = await reporting.post(
            "/v1/reports:bulk", content="\n".join(json.dumps(x) for x in lines),
            headers={"Content-Type": "application/x-ndjson", **caller(traces["bulk"])},
        )  # fmt: skip
        team = await registry.post(
            "/v1/teams", json={"district_code": "1201", "fiscal_year": 2569},
            headers=caller(traces["team"]),
        )  # fmt: skip
        assert [r.status_code for r in (untraced, amended, retracted, bulk, team)] == [
            201, 200, 200, 200, 201,
        ]  # fmt: skip
        reports = await collect(nc, "REPORTS", "warroom.report.>", 5)
        teams = await collect(nc, "REGISTRY", "warroom.registry.>", 1)

    def trace_of(headers: dict[str, str]) -> str:
        parent = tracing.parse(headers["traceparent"])
        assert parent is not None
        return parent.trace_id

    by_type = {}
    for subject, _, headers in reports:
        by_type.setdefault(subject.split(".")[2], []).append(trace_of(headers))
    new_trace = access_line(log_lines.lines(), untraced)["trace_id"]
    assert new_trace not in traces.values()
    assert by_type == {
        "submitted": [new_trace, traces["bulk"], traces["bulk"]],
        "amended": [traces["amend"]],
        "retracted": [traces["retract"]],
    }
    [(_, _, team_headers)] = teams
    assert trace_of(team_headers) == traces["team"]
    assert EventHeaders.model_validate(team_headers)
    assert envelope_model(TeamCreated).model_validate(teams[0][1])


async def test_a_dead_letter_keeps_the_trace_of_its_event(
    platform: Platform, nc: NATS, log_lines: LogLines
) -> None:
    app = create_aggregator(platform.aggregator)
    log_lines.attach()
    js = nc.jetstream()
    async with serve(app) as aggregator:
        await js.publish(
            "warroom.report.submitted.10.1001", b"{not json",
            headers={"traceparent": TRACEPARENT, "tracestate": "dopa=1"},
        )  # fmt: skip
        [(_, _, headers)] = await _raw(nc, "AGGREGATOR_DEADLETTER", 1)
        letters = (await aggregator.get("/v1/dead-letters")).json()
        warned = await logged(log_lines, lambda line: line["message"].startswith("dead-lettered"))

    letter = DeadLetterHeaders.model_validate(headers)
    assert (letter.traceparent, letter.tracestate) == (TRACEPARENT, "dopa=1")
    assert letter.subject == "warroom.report.submitted.10.1001"
    assert letters["items"][0]["traceparent"] == TRACEPARENT
    assert (warned["trace_id"], warned["parent_span_id"]) == (TRACE, CALLER)


async def _raw(nc: NATS, stream: str, count: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """Messages of a stream whose data is not JSON: (subject, data, headers)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(">", stream=stream)
    try:
        msgs = await eventually(lambda: sub.fetch(count, timeout=5), lambda m: len(m) >= count)
    finally:
        await sub.unsubscribe()
    return [(m.subject, m.data, dict(m.headers or {})) for m in msgs]


async def test_every_log_line_of_a_request_carries_its_request_and_trace_ids(
    platform: Platform, log_lines: LogLines
) -> None:
    """Lines of the handler, of the access log and of the server about an escaped error."""
    app = create_registry(platform.registry)

    async def fail(_: None = Depends(PUBLIC)) -> None:
        logging.getLogger("warroom_registry.test").warning("about to fail")
        raise RuntimeError("boom")

    app.add_api_route("/boom", fail, methods=["GET"])
    log_lines.attach()
    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as client:
        answer = await client.get("/boom", headers={"X-Request-ID": "req-42", **caller(TRACE)})
        ok = await client.get("/healthz", headers={"X-Request-ID": "req-43"})
    lines = log_lines.lines()

    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "req-42"
    assert answer.json()["error"]["code"] == "internal_error"
    assert ok.status_code == 200
    mine = [line for line in lines if line.get("request_id") == "req-42"]
    loggers = {line["logger"] for line in mine}
    assert {"warroom_registry.test", "warroom.access", "uvicorn.error"} <= loggers
    assert all(line["trace_id"] == TRACE for line in mine)
    assert all(line["service"] == "registry" for line in mine)
    assert len({line["span_id"] for line in mine}) == 1
    server = [line for line in lines if line["logger"] != "httpx"]  # not the test's client
    about = [line for line in server if "boom" in json.dumps(line) or "about" in line["message"]]
    assert about
    assert all(line.get("request_id") == "req-42" for line in about)
    # Lines outside any request carry no request id.
    assert any(line["message"] == "Application startup complete." for line in lines)
    assert all(
        "request_id" not in line for line in lines if line["message"].startswith("Application")
    )
