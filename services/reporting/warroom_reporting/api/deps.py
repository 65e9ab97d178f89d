from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from warroom_shared.directory import DistrictDirectory
from warroom_shared.security.access import ADMIN, DISTRICT_OFFICER, READERS, Allow
from warroom_shared.security.principal import Principal


async def get_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.pool.acquire() as conn:
        yield conn


async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def get_directory(request: Request) -> DistrictDirectory:
    directory: DistrictDirectory = request.app.state.directory
    return directory


ConnDep = Annotated[asyncpg.Connection, Depends(get_conn)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
DirectoryDep = Annotated[DistrictDirectory, Depends(get_directory)]
Reader = Annotated[Principal, Depends(Allow(*READERS))]  # officers: their area only
Writer = Annotated[Principal, Depends(Allow(ADMIN, DISTRICT_OFFICER))]  # officers: own district
