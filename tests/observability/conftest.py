"""Helpers of the observability tests: the JSON log lines an app writes, and Prometheus text."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from prometheus_client.parser import text_string_to_metric_families
from pythonjsonlogger.json import JsonFormatter


class LogLines:
    """What the JSON handler of `configure_logging` writes, one dict per line."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handlers: list[logging.StreamHandler[Any]] = []

    def attach(self) -> None:
        """Point the root JSON handler (set up by the last `create_app`) at this buffer."""
        self.handlers = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonFormatter)
        ]
        assert len(self.handlers) == 1
        self.handlers[0].setStream(self.stream)

    def detach(self) -> None:
        for handler in self.handlers:
            handler.setStream(sys.stdout)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    lines = LogLines()
    yield lines
    lines.detach()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition: (name, labels) -> value."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    """The sample `name{labels}` (exactly those labels), or None if the exposition has none."""
    return samples(text).get((name, frozenset(labels.items())))


@pytest.fixture
def js(nc: NATS) -> JetStreamContext:
    return nc.jetstream()
