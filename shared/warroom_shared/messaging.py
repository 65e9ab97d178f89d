"""NATS helpers and the whole JetStream topology (streams, KV buckets), declared in one place."""

from __future__ import annotations

import dataclasses
import logging

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, BucketNotFoundError

log = logging.getLogger(__name__)

REPORTS_STREAM = StreamConfig(
    name="REPORTS",
    subjects=["warroom.report.>"],
    storage=StorageType.FILE,
    duplicate_window=600.0,  # seconds; a help for relay retries, not the exactly-once guarantee
)
REGISTRY_STREAM = StreamConfig(
    name="REGISTRY",
    subjects=["warroom.registry.>"],
    storage=StorageType.FILE,
    duplicate_window=600.0,
)
STREAMS = (REPORTS_STREAM, REGISTRY_STREAM)

DISTRICTS_BUCKET = KeyValueConfig(
    bucket="warroom_districts",
    description="District directory published by the registry: key = district code",
    history=1,
    storage=StorageType.FILE,
)
KV_BUCKETS = (DISTRICTS_BUCKET,)


async def connect(url: str, name: str) -> NATS:
    """Connect the way a service must: reconnect forever, never give up on a broker outage.
    `url` may list several servers of a cluster, comma-separated (the client also learns the
    others from the one it reaches)."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error: %s", exc)

    async def on_disconnect() -> None:
        log.info("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    return await nats.connect(
        [part.strip() for part in url.split(",")],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        allow_reconnect=True,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )


async def ensure_topology(js: JetStreamContext, replicas: int = 1) -> None:
    """Create or update every stream and KV bucket, each kept on `replicas` servers (3 on a
    3-node cluster); safe to run again."""
    for config in STREAMS:
        await ensure_stream(js, config, replicas)
    for bucket in KV_BUCKETS:
        try:
            await js.key_value(bucket.bucket)
        except BucketNotFoundError:
            await js.create_key_value(dataclasses.replace(bucket, replicas=replicas))


async def ensure_stream(js: JetStreamContext, config: StreamConfig, replicas: int = 1) -> None:
    config = dataclasses.replace(config, num_replicas=replicas)
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)
