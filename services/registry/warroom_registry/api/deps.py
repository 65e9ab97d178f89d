from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from nats.js import JetStreamContext

from warroom_registry.geography import Geography
from warroom_registry.programme import ProgrammeScope


async def get_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.pool.acquire() as conn:
        yield conn


async def get_geography(request: Request) -> Geography:
    geo: Geography = request.app.state.geography
    return geo


async def get_scope(request: Request) -> ProgrammeScope:
    scope: ProgrammeScope = request.app.state.scope
    return scope


async def get_jetstream(request: Request) -> JetStreamContext:
    js: JetStreamContext = request.app.state.jetstream
    return js


ConnDep = Annotated[asyncpg.Connection, Depends(get_conn)]
GeoDep = Annotated[Geography, Depends(get_geography)]
ScopeDep = Annotated[ProgrammeScope, Depends(get_scope)]
JetStreamDep = Annotated[JetStreamContext, Depends(get_jetstream)]
