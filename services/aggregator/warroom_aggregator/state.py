"""What the lifespan opens and the routes use, in one typed object on `app.state.aggregator`."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from warroom_aggregator.broadcast import Broadcaster
from warroom_aggregator.changes import ChangeFeed
from warroom_aggregator.consumer import Consumer
from warroom_aggregator.settings import AggregatorSettings
from warroom_shared.directory import DistrictDirectory


@dataclass(frozen=True, slots=True)
class State:
    settings: AggregatorSettings
    pool: asyncpg.Pool
    nc: NATS
    js: JetStreamContext
    directory: DistrictDirectory
    broadcaster: Broadcaster
    consumer: Consumer
    feed: ChangeFeed
