"""A service's FastAPI application, built the same way for every service: error shapes, limits,
request ids and traces, metrics, security headers, CORS for the configured front ends, and an
access rule on every route (checked here, so a route without one cannot ship).

Every service answers `/healthz` (alive), `/readyz` (ready, its dependencies beside: what its
lifespan plugs into `app.state.readiness`), `/metrics` (`app.state.metrics`, for Prometheus) and
`/asyncapi.json` (the platform's events), and its API documentation at `/docs` (`docs`)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from warroom_shared import asyncapi
from warroom_shared.docs import docs
from warroom_shared.http import ERROR_RESPONSES, install_common
from warroom_shared.jsonbody import require_strict_json
from warroom_shared.metrics import CONTENT_TYPE, Metrics
from warroom_shared.readiness import Readiness
from warroom_shared.security.access import (
    ADMIN,
    MONITOR,
    PUBLIC,
    Allow,
    Guard,
    annotate_rules,
)
from warroom_shared.security.headers import SecurityHeadersMiddleware
from warroom_shared.security.principal import Principal
from warroom_shared.security.public import PublicRateLimitMiddleware, public_paths
from warroom_shared.security.ratelimit import RateLimit
from warroom_shared.security.tokens import TokenVerifier
from warroom_shared.settings import WarroomSettings

health = APIRouter(tags=["health"])


class LivenessAnswer(BaseModel):
    status: Literal["ok", "failed"]
    checks: dict[str, bool]


@health.get(
    "/healthz",
    response_model=LivenessAnswer,
    responses={503: {"model": LivenessAnswer, "description": "A loop ended: restart the pod"}},
)
async def get_healthz(_: Annotated[None, Depends(PUBLIC)], request: Request) -> JSONResponse:
    """The process is alive and none of its background loops has ended (liveness)."""
    readiness: Readiness = request.app.state.readiness
    checks = readiness.alive()
    alive = all(checks.values())
    answer = LivenessAnswer(status="ok" if alive else "failed", checks=checks)
    return JSONResponse(answer.model_dump(), status_code=200 if alive else 503)


class ReadinessAnswer(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, bool]
    dependencies: dict[str, bool]


@health.get(
    "/readyz",
    response_model=ReadinessAnswer,
    responses={503: {"model": ReadinessAnswer, "description": "Not ready"}},
)
async def get_readyz(_: Annotated[None, Depends(PUBLIC)], request: Request) -> JSONResponse:
    """Ready when this pod's own checks pass: its start finished, its loops run, what it loads
    is loaded (503 otherwise). `dependencies` tells what the database, NATS, streams and
    consumers shared by every replica answer; they do not decide readiness."""
    readiness: Readiness = request.app.state.readiness
    checks = readiness.pod()
    ready = all(checks.values())
    answer = ReadinessAnswer(
        status="ready" if ready else "not_ready",
        checks=checks,
        dependencies=await readiness.dependencies(),
    )
    return JSONResponse(answer.model_dump(), status_code=200 if ready else 503)


operations = APIRouter(tags=["operations"])


@operations.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                     "description": "Prometheus text exposition format"}},
)  # fmt: skip
async def get_metrics(
    _: Annotated[Principal, Depends(Allow(ADMIN, MONITOR))], request: Request
) -> Response:
    """The service's figures for Prometheus (send a bearer token: `authorization` in the scrape
    configuration)."""
    metrics: Metrics = request.app.state.metrics
    return Response(await metrics.render(), media_type=CONTENT_TYPE)


@operations.get("/asyncapi.json")
async def get_asyncapi(_: Annotated[None, Depends(PUBLIC)]) -> dict[str, Any]:
    """AsyncAPI 3.0 document of every NATS subject and event of the platform."""
    return asyncapi.document()


# Objects allocated between two collections of the youngest generation (Python's default: 700).
# A bulk request holds its 10,000 reports until it answers, so nearly all it allocates survives
# each collection: with 700, collections came every few reports, each traversing what had
# survived so far (a bulk line 317k -> 310k instructions; reporting's CPU in a 100,000-report
# import 18-20 -> 16 s).
YOUNG_GENERATION = 10_000


def frozen_after_start(
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The lifespan, then what it loaded (geography, the district directory, the app itself)
    moved out of the cyclic garbage collector's reach with `gc.freeze`: a full collection walks
    every tracked object, and with those in the heap each one paused requests for tens of
    milliseconds (single-POST p99 65 ms with them, 21-24 ms frozen)."""

    @contextlib.asynccontextmanager
    async def frozen(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app):
            gc.collect()
            gc.freeze()
            threshold = gc.get_threshold()
            gc.set_threshold(YOUNG_GENERATION, *threshold[1:])
            try:
                yield
            finally:
                gc.set_threshold(*threshold)
                gc.unfreeze()

    return frozen


def service_app(
    name: str,
    description: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    settings: WarroomSettings,
    routers: Sequence[APIRouter],
    overrides: Mapping[str, tuple[int, tuple[str, ...]]] | None = None,
    csp: bytes | None = None,  # a website's Content-Security-Policy; the APIs' by default
) -> FastAPI:
    app = FastAPI(
        title=f"CAST War Room — {name}", version="1.0.0", description=description,
        lifespan=frozen_after_start(lifespan),
        # Swagger UI from the service itself (`docs`), not from a CDN; no ReDoc.
        docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
        # Traces and metrics are the platform's own (`tracing`, `metrics`); FastAPI's native
        # OpenTelemetry would only look for SDK providers on every request (about 5 us each).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )  # fmt: skip
    app.state.guard = guard = Guard(
        TokenVerifier(settings.key_set(), settings.claims()),
        RateLimit(settings.rate_limit, settings.rate_limit_storage),
    )
    # The service's own routes first: a request is matched against the routes in order, each
    # included router's in turn, so the busiest routes are found sooner
    every_router = (*routers, health, operations, docs)
    # The first middleware added is the innermost: its 429 gets the request id and headers.
    app.add_middleware(
        PublicRateLimitMiddleware, paths=public_paths(app, every_router),
        rate_limit=guard.rate_limit,
    )  # fmt: skip
    app.state.readiness = readiness = Readiness()
    app.state.metrics = metrics = Metrics()
    metrics.on_scrape("dependencies", readiness.figures)
    install_common(app, settings.max_body_bytes, overrides, metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match",
                           "X-Request-ID", "traceparent", "tracestate"],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
            max_age=600,
        )  # fmt: skip
    hsts = settings.environment == "production"
    app.add_middleware(SecurityHeadersMiddleware, hsts=hsts, csp=csp)
    for router in every_router:
        annotate_rules(router.routes)
        require_strict_json(router.routes)
        app.include_router(router, responses=ERROR_RESPONSES)
    return app
