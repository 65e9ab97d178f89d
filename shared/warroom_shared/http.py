"""What every HTTP service does the same way: limits, error shapes, request ids, cache validators.

Bad input always gets a 4xx with field-level messages, never a 500: malformed JSON (a duplicate
key too: `jsonbody.py`) -> 400, body too large -> 413, wrong content type -> 415, invalid fields
or query parameters (and text PostgreSQL cannot store: `text.py`) -> 422.

Every error answer is said in the language the caller prefers (`i18n.py`: Thai unless it prefers
English), with `Content-Language` and `Vary: Accept-Language`; its codes and field types are the
same in both languages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as ASGIMessage

from warroom_shared import tracing
from warroom_shared.i18n import Language, Message, localized, preferred_language
from warroom_shared.logging import request_id as request_id_var
from warroom_shared.metrics import Metrics, MetricsMiddleware
from warroom_shared.text import printable, query_errors

JSON = "application/json"
log = logging.getLogger(__name__)


class Problem(Exception):
    """An error answer with a machine-readable code, its message the catalogue's (`i18n.py`) for
    the code, with `params`: `raise Problem(404, "team_not_found", team_id=team_id)`; `message`:
    another of the catalogue's messages instead. `extra`: more members of the error object, such
    as the id of what a conflict is with."""

    def __init__(
        self,
        status: int,
        code: str,
        /,
        message: Message | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        fields: list[dict[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> None:
        message = message if message is not None else Message(code, **params)
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})
        self.fields = fields
        self.extra = dict(extra or {})

    def response(self, language: Language) -> JSONResponse:
        extra = self.extra if self.fields is None else {**self.extra, "fields": self.fields}
        return problem_response(
            language, self.status, self.code, self.message, self.headers, **extra
        )


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldError] | None = None


class ErrorBody(BaseModel):
    """Every 4xx answer: a machine-readable code, a message, and field messages where any."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Refused: see `error.code` and `error.fields`"}
}


def language_of(scope: Scope) -> Language:
    """The language the caller prefers (`Accept-Language`) of the request `scope`."""
    header = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), b"")
    return preferred_language(header.decode("latin-1"))


def problem_response(
    language: Language,
    status: int,
    code: str,
    message: Message,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The error answer, its messages (and its field messages) in `language`."""
    error = {"code": code, "message": message, **extra}
    body = {"error": _printable(localized(error, language))}
    answer_headers = {**(headers or {}), "Content-Language": language, "Vary": "Accept-Language"}
    return JSONResponse(body, status_code=status, headers=answer_headers)


def _printable(value: Any) -> Any:
    """`value` with every string in it `printable`: a message may quote the input."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def field_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic errors as `{field, message, type}`, with `field` a dotted path (`body.` dropped)
    and `message` a `Message`, said in the caller's language in an error answer."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:]
        if isinstance(err["msg"], Message):
            message = err["msg"]
        else:
            message = Message.of_error({**err, "msg": printable(err["msg"])})
        field = printable(".".join(loc) or "body")
        out.append({"field": field, "message": message, "type": err["type"]})
    return out


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    language = language_of(request.scope)
    errors = list(exc.errors())
    invalid = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if invalid is not None:
        reason = invalid.get("ctx", {}).get("error") or "?"
        return Problem(400, "malformed_json", reason=reason).response(language)
    return Problem(422, "invalid_fields", fields=field_errors(errors)).response(language)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response(language_of(request.scope))


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, _BodyTooLarge):
        return _too_large(request.scope, exc.limit)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    problem = Problem(exc.status_code, code, headers=exc.headers, detail=str(exc.detail))
    return problem.response(language_of(request.scope))


# The database cannot be reached, ended the connection or did not answer in time (a restart, a
# failover, too many clients, a timeout): the request may succeed if sent again, so 503 with
# Retry-After rather than a 500. While connections die under load, asyncpg raises any of these,
# depending on where each connection was: in a query, being released, or being opened.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    # ConnectionResetError, "unexpected connection_lost()", an unreachable or unresolved host,
    # and TimeoutError (asyncio's too): connecting, `pool.acquire` and `command_timeout`
    OSError,
    asyncpg.PostgresConnectionError,  # class 08: ConnectionDoesNotExistError and the like
    # class 57: AdminShutdown, CrashShutdown, CannotConnectNow, QueryCanceled (statement_timeout)
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.InterfaceError,  # "connection is closed", "pool is closing"
    asyncpg.InternalClientError,  # the protocol's state when its connection died mid-operation
)


async def _on_database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    problem = Problem(503, "database_unavailable", headers={"Retry-After": "1"})
    return problem.response(language_of(request.scope))


async def _on_unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: the error shape and the request id, so that the caller can quote it (the error
    itself is logged by the server, with the same id)."""
    state = request.scope.get("state", {})
    rid = state.get("request_id") if isinstance(state, dict) else None
    problem = Problem(500, "internal_error", headers={"X-Request-ID": rid} if rid else None)
    return problem.response(language_of(request.scope))


class LimitsMiddleware:
    """Refuses oversized bodies (413) and bodies of a type the route does not take (415).

    `limits` maps a path suffix to (max bytes, accepted content types) for routes that differ.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        overrides: Mapping[str, tuple[int, tuple[str, ...]]] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = dict(overrides or {})

    def _rules(self, path: str) -> tuple[int, tuple[str, ...]]:
        for suffix, rule in self.overrides.items():
            if path.endswith(suffix):
                return rule
        return self.max_bytes, (JSON,)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit, types = self._rules(scope["path"])
        headers = dict(scope["headers"])  # names in lower case, as ASGI servers give them
        length = headers.get(b"content-length")
        declared = int(length) if length is not None and _DIGITS.fullmatch(length) else None
        if declared is not None and declared > limit:
            await _send(scope, receive, send, _too_large(scope, limit))
            return
        chunked = b"transfer-encoding" in headers
        # latin-1: header bytes need not be UTF-8
        ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if (length not in (None, b"0") or chunked) and ctype not in types:
            refusal = Problem(415, "unsupported_media_type", types=types)
            await _send(scope, receive, send, refusal.response(language_of(scope)))
            return
        # A server reads no more than the length declared; a body without one is counted
        counted = receive if declared is not None and not chunked else _capped(receive, limit)
        await self.app(scope, counted, send)


_DIGITS = re.compile(b"[0-9]{1,18}")


class _BodyTooLarge(StarletteHTTPException):
    """Raised while a body is read: an HTTP error, which FastAPI passes on to its handler (any
    other error reading a body it answers 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413)
        self.limit = limit


def _too_large(scope: Scope, limit: int) -> JSONResponse:
    return Problem(413, "body_too_large", limit=limit).response(language_of(scope))


async def _send(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    await response(scope, receive, send)


def _capped(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> ASGIMessage:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge(limit)
        return message

    return wrapped


class QueryTextMiddleware:
    """Refuses (422, a message per parameter) a query string with a value that is not acceptable
    text (`text.query_errors`), for every route at once: the framework would replace bytes that
    are not UTF-8 without a word, and pass a NUL on to the database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope["query_string"] if scope["type"] == "http" else b""
        errors = query_errors(query) if query else []
        if errors:
            refusal = Problem(422, "invalid_fields", fields=errors)
            await _send(scope, receive, send, refusal.response(language_of(scope)))
            return
        await self.app(scope, receive, send)


_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,64}")  # visible ASCII: it goes into logs and headers


class RequestIdMiddleware:
    """Gives every request an id (kept from `X-Request-ID` if the caller sent one) and a span of
    the caller's W3C trace (`traceparent`; a new trace if it sent none or an invalid one). Both
    are set for the request's log lines (`logging.py`) and its events' headers (`tracing.py`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        sent = headers.get(b"x-request-id", b"")
        request_id = sent.decode() if _REQUEST_ID.fullmatch(sent) else tracing.random_id(128)
        scope.setdefault("state", {})["request_id"] = request_id
        parent = headers.get(b"traceparent")
        state = headers.get(b"tracestate")
        span = tracing.new_span(
            {
                k: v.decode(errors="replace")
                for k, v in ((tracing.TRACEPARENT, parent), (tracing.TRACESTATE, state))
                if v is not None
            }
        )
        scope["state"]["trace"] = span

        async def send_with_id(message: ASGIMessage) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        id_token = request_id_var.set(request_id)
        trace_token = tracing.use(span)
        await self.app(scope, receive, send_with_id)
        # Reset only after a normal end: when an error escapes, the server's own log line about
        # it (written in this request's task) still carries the request's ids.
        tracing.reset(trace_token)
        request_id_var.reset(id_token)


def install_common(
    app: FastAPI,
    max_body_bytes: int,
    overrides: Mapping[str, tuple[int, tuple[str, ...]]] | None = None,
    metrics: Metrics | None = None,
) -> None:
    """Error handlers, limits, query text, metrics and request ids, the same on every service."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _on_database_unavailable)
    app.add_exception_handler(Exception, _on_unexpected_error)
    app.add_middleware(LimitsMiddleware, max_bytes=max_body_bytes, overrides=overrides)
    app.add_middleware(QueryTextMiddleware)
    if metrics is not None:  # outside the limits, so their 413 and 415 are counted too
        app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)


_VERSION_TAG = re.compile(r'[ \t]*(?:W/)?"?([0-9]{1,9})"?[ \t]*')


def version_in(if_match: str) -> int | None:
    """The version an `If-Match` names, for resources whose ETag is `"<version>"`; None when it
    names none (a list, `*`, digits other than ASCII, a number too large to be a version)."""
    found = _VERSION_TAG.fullmatch(if_match)
    return int(found.group(1)) if found else None


def etag_of(payload: Any) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def cacheable(request: Request, payload: Any, max_age: int = 3600) -> Response:
    """Reference data: a strong ETag, `304` when the client already has it (private: the
    answer needs a token, so shared caches must not keep it)."""
    tag = etag_of(payload)
    headers = {"ETag": tag, "Cache-Control": f"private, max-age={max_age}"}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return JSONResponse(payload, headers=headers)
