"""Error answers in the caller's language (`Accept-Language`: Thai unless it prefers English),
and the mistakes Thai habits make named as such: a Buddhist-era year, Thai digits."""

import json
import uuid

import httpx
import pytest

from tests.utils.factories import report

THAI = {"Accept-Language": "th-TH,th;q=0.9,en;q=0.8"}
ENGLISH = {"Accept-Language": "en-US,en;q=0.9,th;q=0.5"}


def _field(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    [field] = r.json()["error"]["fields"]
    return dict(field)


@pytest.mark.parametrize(
    ("headers", "language", "message"),
    [
        ({}, "th", "ข้อมูลบางช่องไม่ถูกต้อง"),  # no preference: Thai
        (THAI, "th", "ข้อมูลบางช่องไม่ถูกต้อง"),
        (ENGLISH, "en", "Some fields are invalid."),
        ({"Accept-Language": "th;q=0.3, en;q=0.7"}, "en", "Some fields are invalid."),
        ({"Accept-Language": "fr"}, "en", "Some fields are invalid."),
    ],
)
async def test_submit_report_invalid_answers_in_the_preferred_language(
    reporting: httpx.AsyncClient, headers: dict[str, str], language: str, message: str
) -> None:
    r = await reporting.post("/v1/reports", json=report(title="x" * 201), headers=headers)

    assert r.status_code == 422
    assert r.headers["content-language"] == language
    assert "Accept-Language" in r.headers["vary"]
    assert r.json()["error"]["message"] == message
    field = r.json()["error"]["fields"][0]
    assert (field["field"], field["type"]) == ("title", "string_too_long")
    expected = "ยาวได้ไม่เกิน 200 ตัวอักษร" if language == "th" else "at most 200 characters"
    assert expected in field["message"]


async def test_submit_report_buddhist_era_date_names_the_christian_era_date(
    reporting: httpx.AsyncClient,
) -> None:
    body = report(activity_date="2568-02-14")

    thai = _field(await reporting.post("/v1/reports", json=body))
    english = _field(await reporting.post("/v1/reports", json=body, headers=ENGLISH))

    assert (thai["field"], thai["type"]) == ("activity_date", "buddhist_era")
    assert thai["message"] == "ใช้ปี ค.ศ. (2025-02-14) ไม่ใช่ปี พ.ศ."
    assert english["message"].startswith("use the Christian-era year (2025-02-14)")
    assert "future" not in english["message"]
    assert (await reporting.get(f"/v1/reports/{body['report_id']}")).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "kind", "instead"),
    [
        ("activity_date", "๒๕๖๘-๐๒-๑๔", "date_format", "2025-02-14"),
        ("households", "๕", "int_type", "5"),
        ("participants.people", "๑๒", "int_type", "12"),
    ],
)
async def test_submit_report_thai_digits_are_named(
    reporting: httpx.AsyncClient, field: str, value: str, kind: str, instead: str
) -> None:
    body = report()
    parent, _, name = field.rpartition(".")
    (body[parent] if parent else body)[name] = value

    thai = _field(await reporting.post("/v1/reports", json=body))
    english = _field(await reporting.post("/v1/reports", json=body, headers=ENGLISH))

    assert (thai["field"], thai["type"]) == (field, kind)
    assert "เลขไทย" in thai["message"]
    assert instead in thai["message"]
    assert "Thai digits" in english["message"]
    assert instead in english["message"]


async def test_problems_and_middleware_refusals_answer_in_the_preferred_language(
    reporting: httpx.AsyncClient,
) -> None:
    report_id = uuid.uuid4()
    url = f"/v1/reports/{report_id}"
    missing = await reporting.get(url)
    missing_en = await reporting.get(url, headers=ENGLISH)
    media = await reporting.post("/v1/reports", content=b"x", headers={"Content-Type": "text/a"})
    twice = await reporting.post(
        "/v1/reports", content=b'{"a": 1, "a": 2}', headers={"Content-Type": "application/json"}
    )

    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "report_not_found",
        "message": f"ไม่พบรายงาน {report_id}",
    }
    assert missing_en.json()["error"]["message"] == f"No report {report_id}."
    assert missing_en.headers["content-language"] == "en"
    assert media.status_code == 415
    assert media.json()["error"]["message"] == "ส่งเนื้อหาคำขอเป็น application/json"
    assert media.headers["content-language"] == "th"
    assert twice.status_code == 400
    assert twice.json()["error"]["message"].endswith('คีย์ "a" ซ้ำกันในวัตถุเดียว')


async def test_bulk_refusals_answer_in_the_preferred_language(
    reporting: httpx.AsyncClient,
) -> None:
    line = report(activity_date="2568-02-14")
    ndjson = {"Content-Type": "application/x-ndjson"}
    content = json.dumps(line).encode()
    thai = await reporting.post("/v1/reports:bulk", content=content, headers=ndjson)
    english = await reporting.post(
        "/v1/reports:bulk", content=content, headers={**ndjson, **ENGLISH}
    )

    [field] = thai.json()["results"][0]["fields"]
    assert field["message"] == "ใช้ปี ค.ศ. (2025-02-14) ไม่ใช่ปี พ.ศ."
    assert "Christian-era" in english.json()["results"][0]["fields"][0]["message"]
