"""The JSON log lines: plain text, whatever a library hands along (uvicorn a coloured copy of its
messages, `color_message`)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.utils.apps import live_server
from warroom_shared.logging import SERVER_ACCESS_LOGGER, SERVER_LOGGERS, configure_logging
from warroom_shared.service import service_app
from warroom_shared.settings import WarroomSettings


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """What `configure_logging`'s handler writes (to a buffer, not stdout); the loggers as they
    were afterwards."""
    root = logging.getLogger()
    kept = (root.handlers[:], root.level)
    servers = {name: logging.getLogger(name) for name in (*SERVER_LOGGERS, SERVER_ACCESS_LOGGER)}
    kept_servers = {name: (log.handlers[:], log.propagate) for name, log in servers.items()}
    configure_logging("INFO", "test")
    written = io.StringIO()
    [handler] = [h for h in root.handlers if h not in kept[0]]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    try:
        yield written
    finally:
        root.handlers[:], root.level = kept[0], kept[1]
        for name, log in servers.items():
            log.handlers[:], log.propagate = kept_servers[name]


def lines(written: io.StringIO) -> list[tuple[str, dict[str, Any]]]:
    """Each line written, raw and parsed."""
    return [(line, json.loads(line)) for line in written.getvalue().splitlines()]


@contextlib.asynccontextmanager
async def _nothing_to_open(_: FastAPI) -> AsyncIterator[None]:
    yield


async def test_uvicorn_log_lines_carry_no_colour_codes_and_no_access_line_of_its_own(
    json_logs: io.StringIO,
) -> None:
    app = service_app("logs", "", _nothing_to_open, WarroomSettings(), [])
    async with live_server(app) as url, httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/healthz")).status_code == 200
        assert (await client.get(f"{url}/docs")).status_code == 200

    written = lines(json_logs)
    messages = [data["message"] for _, data in written]
    assert any(m.startswith("Started server process [") for m in messages)
    assert any(m.startswith(f"Uvicorn running on {url}") for m in messages)
    assert any(m.startswith("Finished server process [") for m in messages)
    # One access line a request, the platform's own; none for probes (uvicorn's is off).
    access = [
        (data["logger"], data.get("route")) for _, data in written if "access" in data["logger"]
    ]
    assert access == [("warroom.access", "/docs")]
    for raw, data in written:
        assert "\x1b" not in raw
        assert "\\u001b" not in raw
        assert "color_message" not in data
        assert data["service"] == "test"


def test_escape_codes_are_removed_from_every_field(json_logs: io.StringIO) -> None:
    log = logging.getLogger("uvicorn.error")
    log.info(
        "Started server process [%d]", 4242,
        extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]",
               "peer": "\x1b[1;31mred\x1b[0m \x1bM", "count": 3},
    )  # fmt: skip

    [(raw, data)] = lines(json_logs)
    assert "\x1b" not in raw
    assert "\\u001b" not in raw
    assert data["message"] == "Started server process [4242]"
    assert data["peer"] == "red "
    assert data["count"] == 3
    assert "color_message" not in data
