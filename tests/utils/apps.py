"""Run a service's FastAPI app in-process, lifespan included, behind an httpx client, or on a
real HTTP server in the test's event loop: httpx's ASGITransport buffers whole responses, so a
Server-Sent-Events stream can only be read over a socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from tests.utils.auth import bearer
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.embedded import free_port
from warroom_registry.settings import RegistrySettings
from warroom_reporting.settings import ReportingSettings


@dataclass(frozen=True)
class Platform:
    """The settings of every service, for one test's database and NATS."""

    registry: RegistrySettings
    reporting: ReportingSettings
    aggregator: AggregatorSettings


@contextlib.asynccontextmanager
async def serve(
    app: FastAPI, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The client sends an admin's token unless `headers` says otherwise (`{}`: none)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test",
            headers=bearer() if headers is None else headers,
        ) as client:  # fmt: skip
            yield client


@contextlib.asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", ws="none", log_config=None,
        timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
