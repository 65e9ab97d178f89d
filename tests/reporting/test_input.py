"""Input the reporting service must refuse with a 4xx, never a 500: text PostgreSQL cannot store,
values that would be coerced, duplicate keys, and headers it cannot read."""

import json
from typing import Any

import httpx
import pytest

from tests.utils.factories import report

NDJSON = {"Content-Type": "application/x-ndjson"}
JSON = {"Content-Type": "application/json"}
ENGLISH = {"Accept-Language": "en"}
NUL = "a\x00b"
SURROGATE = "\\ud800"  # written into the JSON text: a lone surrogate escape


def _raw(body: dict[str, Any], field: str, escape: str) -> bytes:
    """The body as JSON text with `field` (dotted) holding a string ending in `escape`, written
    as is (json.dumps would escape the backslash)."""
    *parents, last = field.split(".")
    target = body
    for name in parents:
        target = target[name]
    target[last] = "MARK"
    return json.dumps(body).replace('"MARK"', f'"x{escape}"').encode()


def _fields(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    return {f["field"]: f["type"] for f in r.json()["error"]["fields"]}


@pytest.mark.parametrize("field", ["title", "details", "reported_by.name", "reported_by.position"])
@pytest.mark.parametrize("escape", ["\\u0000", SURROGATE, "\\udfff"])
async def test_submit_report_text_postgres_cannot_store_answers_422(
    reporting: httpx.AsyncClient, field: str, escape: str
) -> None:
    r = await reporting.post("/v1/reports", content=_raw(report(), field, escape), headers=JSON)
    assert _fields(r) == {field: "invalid_text"}


async def test_submit_report_nul_does_not_fail_other_reports_of_its_batch(
    reporting: httpx.AsyncClient,
) -> None:
    good = [report() for _ in range(5)]
    bad = report(title=NUL)
    answers = [await reporting.post("/v1/reports", json=b) for b in (*good[:2], bad, *good[2:])]
    assert [a.status_code for a in answers] == [201, 201, 422, 201, 201, 201]


async def test_amend_and_retract_report_text_postgres_cannot_store_answers_422(
    reporting: httpx.AsyncClient,
) -> None:
    body = report()
    assert (await reporting.post("/v1/reports", json=body)).status_code == 201
    url = f"/v1/reports/{body['report_id']}"
    content = {k: v for k, v in body.items() if k != "report_id"}
    r = await reporting.put(url, json={**content, "details": NUL}, headers={"If-Match": '"1"'})
    assert _fields(r) == {"details": "invalid_text"}
    retraction = {"reason": "sent twice", "retracted_by": {"name": "ก", "position": "ข"}}
    r = await reporting.request(
        "DELETE", url, content=_raw(retraction, "reason", SURROGATE), headers=JSON
    )
    assert _fields(r) == {"reason": "invalid_text"}
    r = await reporting.request(
        "DELETE", url, json={**retraction, "retracted_by": {"name": NUL, "position": "ข"}}
    )
    assert _fields(r) == {"retracted_by.name": "invalid_text"}
    assert (await reporting.get(url)).json()["version"] == 1


@pytest.mark.parametrize("value", [True, "7", 5.0, "1e3"])
@pytest.mark.parametrize("field", ["participants.media", "households", "village_no"])
async def test_submit_report_count_not_integer_answers_422(
    reporting: httpx.AsyncClient, field: str, value: object
) -> None:
    body = report()
    *parents, last = field.split(".")
    target = body
    for name in parents:
        target = target[name]
    target[last] = "MARK"
    literal = "1e3" if value == "1e3" else json.dumps(value)
    raw = json.dumps(body).replace('"MARK"', literal).encode()
    r = await reporting.post("/v1/reports", content=raw, headers=JSON)
    assert _fields(r) == {field: "int_type"}


@pytest.mark.parametrize(
    "value", [1739491200, "1739491200", "2025-02-14T00:00:00", "14/02/2025", "๒๐๒๕-๐๒-๑๔"]
)
async def test_submit_report_date_not_iso_answers_422(
    reporting: httpx.AsyncClient, value: object
) -> None:
    r = await reporting.post("/v1/reports", json=report(activity_date=value))
    assert _fields(r) == {"activity_date": "date_format"}


async def test_submit_report_nil_uuid_answers_422(reporting: httpx.AsyncClient) -> None:
    r = await reporting.post(
        "/v1/reports", json=report(report_id=str("0" * 8 + "-0000" * 3 + "-" + "0" * 12))
    )
    assert _fields(r) == {"report_id": "uuid_nil"}


@pytest.mark.parametrize(
    "duplicate",
    [
        '"households": 1, "households": 900',
        '"participants": {"media": 1, "media": 2}',
    ],
)
async def test_submit_report_duplicate_key_answers_400(
    reporting: httpx.AsyncClient, duplicate: str
) -> None:
    body = report()
    body.pop("households")
    body.pop("participants")
    raw = json.dumps(body)[:-1] + ", " + duplicate + "}"
    r = await reporting.post("/v1/reports", content=raw.encode(), headers={**JSON, **ENGLISH})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "malformed_json"
    assert "appears twice" in r.json()["error"]["message"]


async def test_submit_report_key_with_lone_surrogate_answers_422(
    reporting: httpx.AsyncClient,
) -> None:
    raw = json.dumps(report())[:-1] + ', "x\\ud800": 1}'
    r = await reporting.post("/v1/reports", content=raw.encode(), headers=JSON)
    assert _fields(r)  # pydantic refuses the key as not Unicode; the answer can say so


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(report(title="MARK"))
        .replace("MARK", "\udc80")
        .encode("utf-8", "surrogateescape"),
        json.dumps(report(households="MARK")).replace('"MARK"', "9" * 5000).encode(),
        b'{"title": ' + b"[" * 20_000,
    ],
    ids=["not-utf8", "5000-digits", "nested-20000-deep"],
)
async def test_submit_report_body_python_cannot_read_answers_400(
    reporting: httpx.AsyncClient, raw: bytes
) -> None:
    r = await reporting.post("/v1/reports", content=raw, headers=JSON)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "malformed_json"


async def test_bulk_refuses_lines_postgres_cannot_store_or_coerced(
    reporting: httpx.AsyncClient,
) -> None:
    good = report()
    lines = [
        json.dumps(good).encode(),
        json.dumps(report(title=NUL)).encode(),
        json.dumps(report(households=True)).encode(),
        json.dumps(report(activity_date=1739491200)).encode(),
        _raw(report(), "details", SURROGATE),
    ]
    r = await reporting.post("/v1/reports:bulk", content=b"\n".join(lines), headers=NDJSON)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["created"], answer["refused"]) == (1, 4)
    refused = {
        res["line"]: res["fields"] for res in answer["results"] if res["status"] == "refused"
    }
    assert [f["field"] for f in refused[2]] == ["title"]
    assert [f["field"] for f in refused[3]] == ["households"]
    assert [f["field"] for f in refused[4]] == ["activity_date"]
    assert len(refused[5]) == 1  # the line is not JSON: PostgreSQL never sees it


@pytest.mark.parametrize(
    "if_match",
    [
        "๑".encode(),  # Thai digit one
        "١".encode(),  # Arabic-Indic digit one
        "²".encode(),
        b"\xb2",  # a superscript two in latin-1, as headers are read: isdigit() but not int()
        b'"' + b"9" * 5000 + b'"',
        b'"99999999999999999999"',
        b"\xff\xfe",
        b"*",
        b'"1", "2"',
    ],
)
async def test_amend_report_if_match_not_a_version_answers_412(
    reporting: httpx.AsyncClient, if_match: bytes
) -> None:
    body = report()
    assert (await reporting.post("/v1/reports", json=body)).status_code == 201
    content = {k: v for k, v in body.items() if k != "report_id"}
    url = f"/v1/reports/{body['report_id']}"
    r = await reporting.put(url, json={**content, "households": 1}, headers={"If-Match": if_match})
    assert r.status_code == 412, r.text
    r = await reporting.request(
        "DELETE",
        url,
        json={"reason": "sent twice", "retracted_by": {"name": "ก", "position": "ข"}},
        headers={"If-Match": if_match},
    )
    assert r.status_code == 412, r.text
    assert (await reporting.get(url)).json()["version"] == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Request-ID": "รหัส".encode()},
        {"X-Request-ID": b"x" * 10_000},
        {"X-Request-ID": b"\xff"},
        {"traceparent": b"00-" + b"f" * 10_000},
        {"traceparent": "๐๐-๑".encode()},
        {"tracestate": b"\xff" * 1000},
        {"Accept": b"\xff/\xfe;q=x"},
        {"X-Anything": b"\xff\xfe"},
        {"Content-Type": b'application/json; charset=\xff\xfe; q="\x80'},
    ],
)
async def test_submit_report_garbage_headers_do_not_fail(
    reporting: httpx.AsyncClient, headers: dict[str, bytes]
) -> None:
    r = await reporting.post("/v1/reports", json=report(), headers=headers)
    assert r.status_code == 201, r.text
    assert r.headers["x-request-id"].isascii()


@pytest.mark.parametrize(
    "authorization",
    ["Bearer ๑๒๓".encode(), b"Bearer " + b"a" * 20_000, b"\xff\xfe", b"Bearer a.b.c"],
)
async def test_submit_report_garbage_authorization_answers_401(
    reporting: httpx.AsyncClient, authorization: bytes
) -> None:
    r = await reporting.post("/v1/reports", json=report(), headers={"Authorization": authorization})
    assert r.status_code == 401, r.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=%00", "query.cursor"),
        ("district=10%0001", "query.district"),
        ("district=%FF%FE", "query.district"),
        ("province=%ED%A0%80", "query.province"),
    ],
)
async def test_list_reports_query_not_text_answers_422(
    reporting: httpx.AsyncClient, query: str, field: str
) -> None:
    r = await reporting.get(f"/v1/reports?{query}")
    assert _fields(r) == {field: "invalid_text"}
