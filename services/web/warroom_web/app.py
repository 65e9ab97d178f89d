"""The War Room website's FastAPI application: pages rendered on the server from the services'
APIs, its static files (pinned third-party assets included), and the live fan-out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from warroom_shared.logging import configure_logging
from warroom_shared.metrics import Metrics
from warroom_shared.service import service_app
from warroom_shared.sse import streams_end_on_exit_signal
from warroom_web import devauth, live, oidc, session
from warroom_web.pages import area, completeness, ranking, stream
from warroom_web.settings import WebSettings
from warroom_web.upstream import ServiceName, Upstream

# Everything from this origin only: scripts, styles, fonts, the map's boundaries, the live stream.
CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    b"form-action 'self'; frame-ancestors 'none'"
)

FORMS = (8 * 1024, ("application/x-www-form-urlencoded",))  # the sign-in's forms: no JSON


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    configure_logging(settings.log_level, "web")
    # httpx writes a line for every call at INFO; the website makes several for each page.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstream = Upstream(settings)
        metrics: Metrics = app.state.metrics
        hub = live.Hub(metrics.gauge("warroom_web_live_viewers", "Browsers following /live"))
        app.state.upstream, app.state.hub = upstream, hub
        loops = {}
        token = app.state.live_token = oidc.service_token(settings, app.state.oidc)
        if token is not None:
            url = settings.aggregator_url.rstrip("/") + "/v1/stream"
            loops["live"] = asyncio.create_task(
                hub.run(upstream.client, url, token, settings.token_refresh_margin)
            )
        app.state.readiness.watch(
            None, None, loops=loops,
            checks={**{f"api:{name}": _alive(upstream, name) for name in upstream.urls},
                    "live:aggregator": _connected(hub)},
        )  # fmt: skip
        with streams_end_on_exit_signal(hub.close):
            try:
                yield
            finally:
                app.state.readiness.clear()
                hub.close()
                for task in loops.values():
                    task.cancel()
                await asyncio.gather(*loops.values(), return_exceptions=True)
                await upstream.close()

    provider = oidc.Provider(settings) if settings.oidc_issuer else None
    app = service_app(
        "web", "The War Room website.", lifespan, settings,
        [area.router, completeness.router, ranking.router, stream.router, devauth.router,
         oidc.router],
        csp=_csp(provider), overrides={path: FORMS for path in ("/signin", "/signout")},
    )  # fmt: skip
    app.state.settings, app.state.oidc = settings, provider
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    session.install(app, settings)
    return app


def _csp(provider: oidc.Provider | None) -> bytes:
    """The sign-out form ends at the identity provider's end-session address: its origin is
    the one other place a form of ours may lead (browsers check redirects against it too)."""
    if provider is None:
        return CSP
    return CSP.replace(b"form-action 'self'", f"form-action 'self' {provider.origin()}".encode())


def _connected(hub: live.Hub) -> Callable[[], Awaitable[bool]]:
    """The one upstream subscription of the replica is open."""

    async def check() -> bool:
        return hub.connected.is_set()

    return check


def _alive(upstream: Upstream, name: ServiceName) -> Callable[[], Awaitable[bool]]:
    return lambda: upstream.alive(name)
