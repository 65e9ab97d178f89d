"""Prometheus metrics of a service, served at `/metrics` in the text exposition format.

Two kinds of figures:
- events counted as they happen (requests, latencies, published events, applied batches, SSE
  clients): prometheus_client counters, gauges and histograms, in the app's own registry;
- figures read when Prometheus scrapes (the outbox backlog, a JetStream consumer's pending and
  redelivered messages): registered with `on_scrape`, read then, and shown only if they could be
  read (`warroom_metrics_source_up` says which could not).

Several uvicorn workers (`--workers N`) share one port, so Prometheus reaches whichever worker
accepts its connection: each worker's own counters would jump back and forth between scrapes.
Operators expect one scrape target per instance whose counters cover all its workers, so with
`PROMETHEUS_MULTIPROC_DIR` set (an empty folder, emptied at each start: prometheus_client's
multiprocess mode) every worker writes its figures there and a scrape of any worker sums them
all; SSE clients add up over the live workers. Figures read at scrape time are read once, by
the worker that answers. Without that variable (one worker) the app's own registry is served,
with the process's CPU, memory and garbage collector figures.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
access_log = logging.getLogger("warroom.access")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # understood by every Prometheus
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds; from 1 ms (a totals query) to 10 s (a bulk import of 10,000 reports).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # the route label of a path no route matches (never the raw path)
# Probes and scrapes are not worth an access log line each.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

Scrape = Callable[[], Awaitable[Iterable[Metric]]]
GaugeMode = Literal["livesum", "livemax", "max", "min", "sum", "all", "mostrecent"]


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class _Figures:
    """Metric families read at scrape time, as a collector."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


class Metrics:
    """One app's metrics: `counter`, `gauge` and `histogram` make (once) what a part of the
    service counts; `on_scrape` adds figures read when Prometheus scrapes."""

    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        # Registries per app (not prometheus_client's global one), so apps in one process (tests)
        # keep their figures apart; in multiprocess mode the folder is what is served.
        self.registry = CollectorRegistry(auto_describe=True)
        if not self.multiprocess:
            from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self._made: dict[str, Any] = {}
        self._scrapes: dict[str, Scrape] = {}
        self.http_requests = self.counter(
            "warroom_http_requests_total",
            "HTTP requests answered, by method, route template and status",
            ("method", "route", "status"),
        )
        self.http_duration = self.histogram(
            "warroom_http_request_duration_seconds",
            "Time to answer an HTTP request (to the first byte of a live stream), by route",
            ("method", "route"),
        )

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        made = self._made.get(name)
        if made is None:
            made = Counter(name, documentation, labels, registry=self.registry)
            self._made[name] = made
        assert isinstance(made, Counter)
        return made

    def gauge(
        self, name: str, documentation: str, labels: Sequence[str] = (),
        mode: GaugeMode = "livesum",
    ) -> Gauge:  # fmt: skip
        """`mode`: how the workers' values combine in multiprocess mode."""
        made = self._made.get(name)
        if made is None:
            made = Gauge(
                name, documentation, labels, registry=self.registry, multiprocess_mode=mode
            )
            self._made[name] = made
        assert isinstance(made, Gauge)
        return made

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:  # fmt: skip
        made = self._made.get(name)
        if made is None:
            made = Histogram(name, documentation, labels, registry=self.registry, buckets=buckets)
            self._made[name] = made
        assert isinstance(made, Histogram)
        return made

    def on_scrape(self, source: str, read: Scrape) -> None:
        """Read `read()` at each scrape (replacing an earlier source of that name)."""
        self._scrapes[source] = read

    def off_scrape(self, source: str) -> None:
        self._scrapes.pop(source, None)

    async def render(self, timeout: float = 2.0) -> bytes:
        """The exposition text: counted figures, then those read now."""
        sources = list(self._scrapes.items())
        results = await asyncio.gather(
            *(asyncio.wait_for(read(), timeout) for _, read in sources), return_exceptions=True
        )
        up = GaugeMetricFamily(
            "warroom_metrics_source_up",
            "1 if the figures of a source read at scrape time could be read, else 0",
            labels=["source"],
        )
        families: list[Metric] = [up]
        for (source, _), result in zip(sources, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("metrics: could not read %s: %s", source, result)
                up.add_metric([source], 0)
            else:
                up.add_metric([source], 1)
                families.extend(result)
        served = CollectorRegistry()
        if self.multiprocess:
            multiprocess.MultiProcessCollector(served)  # type: ignore[no-untyped-call]
        else:
            served.register(self.registry)
        served.register(_Figures(families))
        return generate_latest(served)

    def close(self) -> None:
        """This worker is stopping: its live gauges stop counting (multiprocess mode)."""
        path = multiprocess_dir()
        if path is not None:
            multiprocess.mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


def route_of(scope: Scope) -> str:
    """The matched route's template (`/v1/reports/{report_id}`), never the raw path. FastAPI
    records the route of its API routes only; the documentation pages (`/docs`,
    `/openapi.json`), plain routes, are looked up among the app's routes."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    for route in getattr(scope.get("app"), "routes", ()):
        if isinstance(route, Route) and route.matches(scope)[0] is Match.FULL:
            return route.path
    return UNMATCHED


class MetricsMiddleware:
    """Counts every answer by method, route template and status, times it, and writes an access
    log line (inside `RequestIdMiddleware`, so the line carries the request and trace ids)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # prometheus_client's `labels()` checks and joins its label values on every call: the
        # children are looked up once per (method, route, status), a bounded set (route
        # templates, never raw paths)
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def _record(self, method: str, route: str, status: int, took: float) -> None:
        counted = self._counted.get((method, route, status))
        if counted is None:
            counted = self.metrics.http_requests.labels(method, route, str(status))
            self._counted[method, route, status] = counted
        counted.inc()
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._timed[method, route] = self.metrics.http_duration.labels(method, route)
        timed.observe(took)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # unless an answer starts: the server answers 500 to an escaped error
        elapsed: float | None = None

        async def timed_send(message: Message) -> None:
            nonlocal status, elapsed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers", ()))
                if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                    elapsed = time.perf_counter() - start  # a live stream: time to first byte
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            took = elapsed if elapsed is not None else time.perf_counter() - start
            method, route = scope["method"], route_of(scope)
            self._record(method, route, status, took)
            if scope["path"] not in QUIET_PATHS and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s", method, scope["path"], status,
                    extra={"method": method, "route": route, "path": scope["path"],
                           "status": status, "duration_ms": round(took * 1000, 3)},
                )  # fmt: skip
