import httpx
import pytest

BAD_QUERIES = [  # url, status, the fields a 422 must name (or the error code of another 4xx)
    ("/v1/totals?scope=region", 422, {"query.scope"}),
    ("/v1/totals?scope=province", 422, {"query.code"}),
    ("/v1/totals?scope=province&code=1001", 422, {"query.code"}),
    ("/v1/totals?scope=district&code=10", 422, {"query.code"}),
    ("/v1/totals?code=10", 422, {"query.code"}),
    ("/v1/totals?scope=district&code=10a1", 422, {"query.code"}),
    ("/v1/totals?fiscal_year=68", 422, {"query.fiscal_year"}),
    ("/v1/totals?fiscal_year=two", 422, {"query.fiscal_year"}),
    ("/v1/totals?quarter=5", 422, {"query.quarter"}),
    ("/v1/totals?programme=party", 422, {"query.programme"}),
    ("/v1/totals?dimension=beauty", 422, {"query.dimension"}),
    ("/v1/totals?stage=dance", 422, {"query.stage"}),
    ("/v1/totals?stage=act&dimension=water", 422, {"query.stage"}),
    ("/v1/totals?programme=best_practice", 422, {"query.programme"}),
    ("/v1/totals?scope=province&code=99", 404, "province_not_found"),
    ("/v1/totals?scope=district&code=1099", 404, "district_not_found"),
    ("/v1/totals/breakdown", 422, {"query.by"}),
    ("/v1/totals/breakdown?by=colour", 422, {"query.by"}),
    ("/v1/totals/breakdown?by=province&scope=province&code=10", 422, {"query.by"}),
    ("/v1/totals/breakdown?by=district&scope=district&code=1001", 422, {"query.by"}),
    ("/v1/totals/breakdown?by=quarter&quarter=0", 422, {"query.quarter"}),
    ("/v1/totals/breakdown?by=district&scope=province&code=00", 404, "province_not_found"),
    ("/v1/totals/breakdown?by=month", 422, {"query.fiscal_year"}),
    ("/v1/totals/breakdown?by=month&fiscal_year=2568&dimension=water", 422, {"query.by"}),
    ("/v1/totals/breakdown?by=stage&stage=act", 422, {"query.by"}),
    ("/v1/totals/breakdown?by=dimension&stage=act", 422, {"query.by"}),
    ("/v1/completeness", 422, {"query.fiscal_year", "query.quarter"}),
    ("/v1/completeness?fiscal_year=2568&quarter=2&province=1", 422, {"query.province"}),
    ("/v1/completeness?fiscal_year=2568&quarter=2&province=99", 404, "province_not_found"),
    ("/v1/completeness?fiscal_year=3000&quarter=2", 422, {"query.fiscal_year"}),
    ("/v1/completeness/villages?fiscal_year=2568", 422, {"query.quarter"}),
    (
        "/v1/completeness/villages?fiscal_year=2568&quarter=2&province=50&district=5001",
        422,
        {"query.district"},
    ),
    (
        "/v1/completeness/villages?fiscal_year=2568&quarter=2&district=5099",
        404,
        "district_not_found",
    ),
    ("/v1/deadlines", 422, {"query.fiscal_year"}),
    ("/v1/stream?scope=world", 422, {"query.scope"}),
    ("/v1/dead-letters?limit=0", 422, {"query.limit"}),
    ("/v1/dead-letters?limit=many", 422, {"query.limit"}),
]


@pytest.mark.usefixtures("directory_loaded")
async def test_get_with_bad_input_gives_4xx_with_field_messages(
    aggregator: httpx.AsyncClient,
) -> None:
    for url, status, detail in BAD_QUERIES:
        response = await aggregator.get(url)
        assert response.status_code == status, (url, response.text)
        error = response.json()["error"]
        if status == 422:
            assert error["code"] == "invalid_fields"
            assert {f["field"] for f in error["fields"]} == detail, url
            assert all(f["message"] for f in error["fields"])
        else:
            assert error["code"] == detail, url


async def test_write_to_read_only_endpoints_gives_405(aggregator: httpx.AsyncClient) -> None:
    for url in ("/v1/totals", "/v1/totals/breakdown", "/v1/completeness",
                "/v1/completeness/villages", "/v1/deadlines", "/v1/stream"):  # fmt: skip
        response = await aggregator.post(url, json={})
        assert response.status_code == 405, url
        assert response.json()["error"]["code"] == "method_not_allowed"


async def test_get_before_directory_loads_gives_503_with_retry_after(
    aggregator: httpx.AsyncClient,
) -> None:
    for url in (
        "/v1/completeness?fiscal_year=2568&quarter=2",
        "/v1/totals?scope=district&code=1001",
    ):
        response = await aggregator.get(url)
        assert response.status_code == 503, url
        assert response.headers["Retry-After"] == "5"
        assert response.json()["error"]["code"] == "directory_unavailable"
    national = await aggregator.get("/v1/totals?fiscal_year=2568")
    assert national.status_code == 200


ODD_VALUES = [
    "",
    " ",
    "-1",
    "0",
    "1e309",
    "9" * 400,
    "null",
    "%00",
    "ก",
    "10;DROP TABLE totals",
    "[]",
]
PARAMETERS = {
    "/v1/totals": ["scope", "code", "fiscal_year", "quarter", "programme", "dimension", "stage"],
    "/v1/totals/breakdown": ["by", "scope", "code", "fiscal_year", "quarter", "dimension", "stage"],
    "/v1/completeness": ["fiscal_year", "quarter", "province"],
    "/v1/completeness/villages": ["fiscal_year", "quarter", "province", "district"],
    "/v1/deadlines": ["fiscal_year"],
    "/v1/dead-letters": ["limit"],
}


@pytest.mark.usefixtures("directory_loaded")
async def test_get_with_odd_values_never_gives_5xx(aggregator: httpx.AsyncClient) -> None:
    for path, names in PARAMETERS.items():
        for name in names:
            for value in ODD_VALUES:
                response = await aggregator.get(path, params={name: value})
                assert response.status_code < 500, (path, name, value, response.text)
                if response.status_code == 422:
                    assert response.json()["error"]["fields"], (path, name, value)
