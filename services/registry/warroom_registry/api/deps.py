from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from warroom_registry.geography import Geography


async def get_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.pool.acquire() as conn:
        yield conn


async def get_geography(request: Request) -> Geography:
    geo: Geography = request.app.state.geography
    return geo


ConnDep = Annotated[asyncpg.Connection, Depends(get_conn)]
GeoDep = Annotated[Geography, Depends(get_geography)]
