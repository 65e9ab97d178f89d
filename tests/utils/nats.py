"""Waiting on real JetStream messages, with timeouts, never bare sleeps."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nats.aio.client import Client as NATS
from nats.js.api import ConsumerConfig, DeliverPolicy


async def collect(
    nc: NATS, stream: str, subject: str, count: int, timeout: float = 10.0
) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """Read `count` messages of a stream from its start: (subject, JSON body, headers)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        subject, stream=stream, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    out: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while len(out) < count:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"got {len(out)} of {count} messages on {subject}")
            try:
                msgs = await sub.fetch(count - len(out), timeout=min(left, 1.0))
            except TimeoutError:
                continue
            for m in msgs:
                out.append((m.subject, json.loads(m.data), dict(m.headers or {})))
                await m.ack()
    finally:
        await sub.unsubscribe()
    return out
