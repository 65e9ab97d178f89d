"""JSON logs on stdout, one object a line, so a log shipper needs no parsing rules.

Every line written while a request is handled carries its `request_id` and its `trace_id` and
`span_id` (set by `http.RequestIdMiddleware`), whichever logger writes it: the fields are added by
a filter on the one handler, and uvicorn's own loggers are routed to that handler too. The lines
are plain text: no terminal colour codes (uvicorn hands a coloured copy of some messages along,
`color_message`, which is dropped).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from warroom_shared import tracing

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "warroom_request_id", default=None
)

# uvicorn's loggers have handlers of their own (plain text) unless routed to ours. Its access log
# is off: `warroom.access` (`metrics`) logs each request, probes and scrapes excepted.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error")
SERVER_ACCESS_LOGGER = "uvicorn.access"
# ANSI escape sequences (colours, cursor moves), and any stray escape character left over.
ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])?")


class RequestContext(logging.Filter):
    """Adds the request id and the trace of the request being handled to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.get()
        if rid is not None and not hasattr(record, "request_id"):
            record.request_id = rid
        span = tracing.current()
        if span is not None and not hasattr(record, "trace_id"):
            for key, value in span.log_fields().items():
                setattr(record, key, value)
        return True


class PlainJsonFormatter(JsonFormatter):
    """JSON lines with no terminal colour codes, whatever a library hands along."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        log_data.pop("color_message", None)
        return {
            key: ANSI_ESCAPE.sub("", value) if isinstance(value, str) else value
            for key, value in log_data.items()
        }


def configure_logging(level: str = "INFO", service: str = "warroom") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        PlainJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
            json_ensure_ascii=False,
        )
    )
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in (*SERVER_LOGGERS, SERVER_ACCESS_LOGGER):
        server_logger = logging.getLogger(name)
        server_logger.handlers[:] = []
        server_logger.propagate = name != SERVER_ACCESS_LOGGER
