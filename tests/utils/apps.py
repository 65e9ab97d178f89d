"""Run a service's FastAPI app in-process, lifespan included, behind an httpx client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from tests.utils.auth import bearer


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
