"""What the platform accepts as text: any Unicode that PostgreSQL can store in `text` and `jsonb`.

Two things cannot be stored: U+0000 (NUL, which neither type holds: the statement storing it
fails) and lone surrogates U+D800-U+DFFF (a JSON `\\ud800` escape makes one; it has no UTF-8
encoding, and pydantic refuses one in a `str` field too). Every free text field of every model is
annotated `ValidText`, so a refusal names the field before anything reaches the database; query
strings are held to the same rule by `http.QueryTextMiddleware`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_error(value: str) -> str | None:
    """Why `value` is not acceptable text, or None when it is."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain U+0000 (NUL)"
    return f"must not contain a lone surrogate (U+{ord(found.group()):04X}): it is not Unicode text"


def _valid_text(value: Any) -> Any:
    if isinstance(value, str) and (problem := text_error(value)) is not None:
        raise PydanticCustomError("invalid_text", problem)
    return value


ValidText = BeforeValidator(_valid_text)
"""The one rule for free text, on every model's text fields: `Annotated[str, ..., ValidText]`."""


def printable(value: str) -> str:
    """`value` safe to put in an answer: a lone surrogate as its escape, so that an error message
    that quotes the input can still be encoded as UTF-8."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def query_errors(query_string: bytes) -> list[dict[str, str]]:
    """Field errors (`query.<name>`) of the query parameters that are not acceptable text: bytes
    that are not UTF-8 (which the framework would otherwise replace silently) or NUL."""
    errors = []
    for part in query_string.split(b"&"):
        raw_name, _, raw_value = part.partition(b"=")
        name, value = _decoded(raw_name), _decoded(raw_value)
        field = "query." + (raw_name.decode("latin-1") if name is None else name)
        if name is None or value is None:
            errors.append(_query_error(field, "must be UTF-8 text"))
        elif (problem := text_error(name + value)) is not None:
            errors.append(_query_error(field, problem))
    return errors


def _decoded(raw: bytes) -> str | None:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _query_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message, "type": "invalid_text"}
