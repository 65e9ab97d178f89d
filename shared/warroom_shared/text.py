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

from warroom_shared.i18n import Message, custom_error

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def text_error(value: str) -> Message | None:
    """Why `value` is not acceptable text, or None when it is."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return Message("text_nul")
    return Message("text_surrogate", character=f"U+{ord(found.group()):04X}")


def _valid_text(value: Any) -> Any:
    if isinstance(value, str) and (problem := text_error(value)) is not None:
        raise custom_error("invalid_text", problem.key, **problem.params)
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
            errors.append(_query_error(field, Message("text_not_utf8")))
        elif (problem := text_error(name + value)) is not None:
            errors.append(_query_error(field, problem))
    return errors


def _decoded(raw: bytes) -> str | None:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _query_error(field: str, message: Message) -> dict[str, str]:
    return {"field": field, "message": message, "type": "invalid_text"}


def ascii_digits(value: str) -> str | None:
    """`value` with its Thai digits (๐-๙) written in ASCII, or None when it has none."""
    written = value.translate(THAI_DIGITS)
    return None if written == value else written


def _no_thai_digit_number(value: Any) -> Any:
    if isinstance(value, str) and (written := ascii_digits(value.strip())) and written.isdigit():
        raise custom_error("int_type", "thai_digit_number", suggested=int(written))
    return value


NoThaiDigitNumber = BeforeValidator(_no_thai_digit_number)
"""On integer fields: a number sent as a string of Thai digits ("๕") is named as such."""
