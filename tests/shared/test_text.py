"""The one definition of acceptable text, JSON bodies and If-Match versions, shared by every
service (the services' own tests show each refusal end to end)."""

import json
from typing import Annotated

import pytest
from fastapi import APIRouter
from pydantic import BaseModel, TypeAdapter, ValidationError

from warroom_shared.http import version_in
from warroom_shared.jsonbody import StrictJSONRoute, loads, require_strict_json
from warroom_shared.text import ValidText, query_errors, text_error

Text = TypeAdapter(Annotated[str, ValidText])


@pytest.mark.parametrize("value", ["", "สวัสดี", "emoji 😀", "\ufffd", "\uffff", "tab\tnew\nline"])
def test_text_error_accepts_what_postgres_stores(value: str) -> None:
    assert text_error(value) is None
    assert Text.validate_python(value) == value


@pytest.mark.parametrize(
    ("value", "says"), [("a\x00b", "U+0000"), ("\ud800", "U+D800"), ("x\udfff", "U+DFFF")]
)
def test_text_error_refuses_what_postgres_cannot_store(value: str, says: str) -> None:
    assert says in (text_error(value) or "")
    with pytest.raises(ValidationError) as caught:
        Text.validate_python(value)
    assert caught.value.errors()[0]["type"] == "invalid_text"


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (b"", []),
        (b"a=1&b=%E0%B8%81&c=&d&e=x+y", []),
        (b"cursor=%00", ["query.cursor"]),
        (b"a=1&b=%FF&c=%ED%A0%80", ["query.b", "query.c"]),
        (b"%00=1", ["query.\x00"]),
        (b"n%FF=1", ["query.n%FF"]),
    ],
)
def test_query_errors_name_each_parameter(query: bytes, fields: list[str]) -> None:
    assert [e["field"] for e in query_errors(query)] == fields


def test_loads_refuses_a_duplicate_key_at_any_depth() -> None:
    assert loads(b'{"a": {"b": 1}, "c": [{"d": 2}]}') == {"a": {"b": 1}, "c": [{"d": 2}]}
    for body in (b'{"a": 1, "a": 1}', b'{"x": [{"b": 1, "b": 2}]}'):
        with pytest.raises(json.JSONDecodeError, match="appears twice"):
            loads(body)


@pytest.mark.parametrize(
    ("body", "says"),
    [(b"[" + b"9" * 5000 + b"]", "too many digits"), (b"[" * 100_000, "nested too deeply")],
)
def test_loads_refuses_what_python_cannot_read_as_malformed(body: bytes, says: str) -> None:
    with pytest.raises(json.JSONDecodeError, match=says):
        loads(body)


def test_loads_refuses_bytes_that_are_not_utf8() -> None:
    assert loads('\ufeff{"a": "ก"}'.encode()) == {"a": "ก"}  # a byte order mark is fine
    with pytest.raises(json.JSONDecodeError, match="not UTF-8"):
        loads(b'{"a": "\xff"}')


@pytest.mark.parametrize(
    ("header", "version"),
    [
        ('"3"', 3), ("3", 3), ('W/"12"', 12), (' "7" ', 7),
        ("*", None), ('"1", "2"', None), ("", None), ('"๑"', None), ("\xb2", None),
        ('"' + "9" * 10 + '"', None), ('"' + "9" * 5000 + '"', None), ('"-1"', None),
    ],
)  # fmt: skip
def test_version_in_reads_only_ascii_versions(header: str, version: int | None) -> None:
    assert version_in(header) == version


class Body(BaseModel):
    a: int


def test_require_strict_json_refuses_a_json_body_on_a_plain_route() -> None:
    plain, strict = APIRouter(), APIRouter(route_class=StrictJSONRoute)
    for router in (plain, strict):

        @router.post("/x")
        async def post_x(body: Body) -> None:
            """Takes a JSON body."""

        @router.get("/y")
        async def get_y() -> None:
            """Takes none."""

    require_strict_json(strict.routes)
    with pytest.raises(RuntimeError, match="/x takes a JSON body"):
        require_strict_json(plain.routes)
