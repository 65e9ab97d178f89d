"""How every service reads a JSON body: UTF-8, and no object names a key twice.

Python's parser keeps the last of two equal keys without a word, so `{"households": 1,
"households": 900}` would be stored as 900 while a reviewer reading the body sees 1. Such a body
answers 400 `malformed_json` naming the key, on every route of every service that takes a JSON
body: each is a `StrictJSONRoute`, which `service_app` checks with `require_strict_json`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from warroom_shared.i18n import Message


def loads(body: bytes) -> Any:
    """A JSON body as every service reads it: UTF-8, and an object may not name a key twice
    (Python's parser would keep the last value silently). Raises `json.JSONDecodeError`, its
    `msg` our own reasons as a `Message` (said in the caller's language), the parser's as is."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(Message("not_utf8"), "", exc.start) from exc
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise json.JSONDecodeError(Message("too_many_digits"), "", 0) from exc
    except RecursionError as exc:
        raise json.JSONDecodeError(Message("nested_too_deeply"), "", 0) from exc


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        twice = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise json.JSONDecodeError(Message("duplicate_key", key=twice), "", 0)
    return obj


class _StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is read with `loads`. Every route that takes a JSON body is one
    (`require_strict_json` refuses to start a service otherwise)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictJSONRequest(request.scope, request.receive))

        return strict


def require_strict_json(routes: list[Any]) -> None:
    """Refuses a route that takes a JSON body but would read it with Python's plain parser."""
    for route in routes:
        plain = isinstance(route, APIRoute) and not isinstance(route, StrictJSONRoute)
        if plain and route.body_field:
            raise RuntimeError(f"{route.path} takes a JSON body: its router needs StrictJSONRoute")
