"""A service's FastAPI application, built the same way for every service: error shapes, limits,
request ids, security headers, CORS for the configured front ends, and an access rule on every
route (checked here, so a route without one cannot ship)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from warroom_shared.http import ERROR_RESPONSES, install_common
from warroom_shared.security.access import PUBLIC, Guard, RateLimit, annotate_rules
from warroom_shared.security.headers import SecurityHeadersMiddleware
from warroom_shared.security.tokens import TokenVerifier
from warroom_shared.settings import WarroomSettings

health = APIRouter(tags=["health"])


@health.get("/healthz")
async def get_healthz(_: Annotated[None, Depends(PUBLIC)]) -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


def service_app(
    name: str,
    description: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    settings: WarroomSettings,
    routers: Sequence[APIRouter],
    overrides: Mapping[str, tuple[int, tuple[str, ...]]] | None = None,
) -> FastAPI:
    app = FastAPI(
        title=f"CAST War Room — {name}", version="1.0.0", description=description,
        lifespan=lifespan,
    )  # fmt: skip
    app.state.guard = Guard(
        TokenVerifier(settings.key_set(), settings.claims()),
        RateLimit(settings.rate_limit, settings.rate_limit_storage),
    )
    install_common(app, settings.max_body_bytes, overrides)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match",
                           "X-Request-ID", "traceparent"],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
            max_age=600,
        )  # fmt: skip
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.environment == "production")
    for router in (health, *routers):
        annotate_rules(router.routes)
        app.include_router(router, responses=ERROR_RESPONSES)
    return app
