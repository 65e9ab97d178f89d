"""The routes open to anyone (health checks, the API descriptions) are rate-limited too, by the
caller's address: they need no token, so without it one client could call them as often as it
likes (`/openapi.json` is built from every route; `/readyz` asks the database and NATS)."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from warroom_shared.http import Problem, language_of
from warroom_shared.security.access import Public, address_key, rule_of
from warroom_shared.security.ratelimit import RateLimit


def public_paths(app: FastAPI, routers: Iterable[APIRouter]) -> frozenset[str]:
    """The paths of the routers' `PUBLIC` routes (the documentation's included) and of the
    OpenAPI document FastAPI serves."""
    routes = [
        route.path
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and isinstance(rule_of(route), Public)
    ]
    return frozenset(path for path in (app.openapi_url, *routes) if path)


class PublicRateLimitMiddleware:
    """The rate limit, by address, on the public paths (the others check it with their rule)."""

    def __init__(self, app: ASGIApp, paths: frozenset[str], rate_limit: RateLimit) -> None:
        self.app, self.paths, self.rate_limit = app, paths, rate_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            client = scope.get("client")
            try:
                await self.rate_limit.check(address_key(client[0] if client else None))
            except Problem as refused:
                await refused.response(language_of(scope))(scope, receive, send)
                return
        await self.app(scope, receive, send)
