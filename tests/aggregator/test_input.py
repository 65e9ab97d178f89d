"""Query strings and headers the aggregator cannot read answer 4xx naming them, never a 500."""

import httpx
import pytest


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/totals?scope=province&code=1%000", "query.code"),
        ("/v1/totals?programme=%FF", "query.programme"),
        ("/v1/totals?dimension=%ED%A0%80", "query.dimension"),  # an encoded lone surrogate
        ("/v1/totals/breakdown?by=province&fiscal_year=%C0%B2", "query.fiscal_year"),
        ("/v1/completeness?fiscal_year=2568&quarter=2&province=%00", "query.province"),
        ("/v1/stream?scope=%00national", "query.scope"),
        ("/v1/totals?%FF=1", "query.%FF"),  # a name that is not text: as it was sent
    ],
)
@pytest.mark.usefixtures("directory_loaded")
async def test_get_totals_query_not_text_answers_422(
    aggregator: httpx.AsyncClient, url: str, field: str
) -> None:
    r = await aggregator.get(url)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"] == [
        {
            "field": field,
            "message": r.json()["error"]["fields"][0]["message"],
            "type": "invalid_text",
        }
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": b"Bearer \xff\xfe"},
        {"Authorization": "Bearer ๑๒๓".encode()},
        {"Authorization": b"Bearer " + b"a" * 20_000},
    ],
)
async def test_get_totals_authorization_not_a_token_answers_401(
    aggregator: httpx.AsyncClient, headers: dict[str, bytes]
) -> None:
    r = await aggregator.get("/v1/totals", headers=headers)
    assert r.status_code == 401, r.text


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Request-ID": b"\xff" * 100},
        {"traceparent": b"00-\xff-\xfe-01"},
        {"If-None-Match": b"\xff" * 10_000},
        {"Accept": "ข้อความ/*".encode()},
    ],
)
@pytest.mark.usefixtures("directory_loaded")
async def test_get_totals_garbage_headers_answer_200(
    aggregator: httpx.AsyncClient, headers: dict[str, bytes]
) -> None:
    r = await aggregator.get("/v1/totals", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["x-request-id"].isascii()
