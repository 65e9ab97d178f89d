"""The language of error messages (`Accept-Language`), the catalogue that says every message in
Thai and English, and the date and number rules that name Thai habits (Buddhist-era years, Thai
digits). The services' own tests show the answers end to end."""

import ast
import datetime as dt
import string
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError

from warroom_shared.fiscal import written_date
from warroom_shared.http import field_errors
from warroom_shared.i18n import CATALOGUE, Message, localized, preferred_language
from warroom_shared.text import NoThaiDigitNumber

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "th"),  # no preference: Thai
        ("", "th"),
        ("*", "th"),
        ("th", "th"),
        ("th-TH", "th"),
        ("en", "en"),
        ("en-US", "en"),
        ("EN-gb", "en"),
        ("th-TH,th;q=0.9,en-US;q=0.8,en;q=0.7", "th"),  # a Thai browser
        ("en-US,en;q=0.9,th;q=0.8", "en"),  # an English one that also reads Thai
        ("th;q=0.5, en;q=0.8", "en"),  # q-values, not order
        ("en;q=0.8, th", "th"),
        ("en, th", "en"),  # equal q-values: the first named
        ("en;q=0.5, *", "th"),  # `*` covers Thai, ranked above English
        ("fr-FR, fr;q=0.9", "en"),  # only languages we do not speak: English
        ("th;q=0", "en"),  # Thai refused
        ("th;q=0, en;q=0", "en"),
        ("en;q=nope, th;q=2", "th"),  # nothing readable: as if no preference
    ],
)
def test_preferred_language(header: str | None, language: str) -> None:
    assert preferred_language(header) == language


def _fields(template: str | None) -> set[str]:
    """The parameters a template names, a name's `_th` or `_en` (`name_th`) taken off."""
    found = {f for _, f, _, _ in string.Formatter().parse(template or "") if f}
    return {f.removesuffix("_th").removesuffix("_en") for f in found}


def test_catalogue_says_every_message_in_thai_with_the_english_parameters() -> None:
    for key, text in CATALOGUE.items():
        assert text.th.strip(), key
        assert any("\u0e00" <= c <= "\u0e7f" for c in text.th), f"{key}: no Thai in {text.th!r}"
        if text.en is not None:  # else pydantic's own English, its parameters its context
            assert _fields(text.th) <= _fields(text.en), key


def _raised_keys() -> set[str]:
    """The catalogue keys named in the source: `Problem(status, "code", ...)` without a message,
    `Message("key", ...)`, `custom_error("type", "key"?, ...)` (each choice of an `if`)."""
    keys: set[str] = set()
    named = {"Problem": 1, "Message": 0, "custom_error": -1}  # the argument naming the key
    for path in [*ROOT.glob("services/*/warroom_*/**/*.py"), *ROOT.glob("shared/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            position = named.get(node.func.id)
            if position is None or not node.args or (position == 1 and len(node.args) != 2):
                continue
            keys.update(_choices(node.args[position]))
    return keys


def _choices(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _choices(node.body) + _choices(node.orelse)
    return []  # a key made at run time: the test names them


def test_every_message_the_services_raise_is_in_the_catalogue() -> None:
    keys = _raised_keys()
    assert {"report_not_found", "team_exists", "outside_programme_khet", "buddhist_era"} <= keys
    made = {f"{scope}_not_found" for scope in ("province", "district")} | {
        f"place_{scope}" for scope in ("national", "province", "district")
    }  # `Problem(404, f"{scope}_not_found")`, `outside_area(scope)`
    assert (keys | made) - CATALOGUE.keys() == set()


def test_message_is_english_text_said_in_either_language() -> None:
    message = Message("team_exists", district_code="5001", fiscal_year=2569)
    assert message == "District 5001 already has a team for fiscal year 2569."
    assert message.in_language("th") == "อำเภอ 5001 มีทีมของปีงบประมาณ 2569 อยู่แล้ว"
    nested = Message("outside_area", place=Message("place_province", code="50"))
    answer = localized({"fields": [{"message": nested}], "n": 1}, "th")
    assert answer == {"fields": [{"message": "จังหวัด 50 อยู่นอกพื้นที่ของคุณ"}], "n": 1}
    listed = Message("unsupported_media_type", types=("application/json", "text/csv"))
    assert listed == "Send the body as application/json or text/csv."
    assert listed.in_language("th").endswith("application/json หรือ text/csv")


class _Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(max_length=5)]
    count: Annotated[int, NoThaiDigitNumber, Strict(), Field(ge=0, le=10)]
    kind: Literal["cast", "sustainable_village"]
    tags: Annotated[list[str], Field(min_length=1)]


@pytest.mark.parametrize(
    ("body", "kind", "english", "thai"),
    [
        ({}, "missing", "Field required", "ต้องระบุช่องนี้"),
        ({"title": "abcdef"}, "string_too_long", "at most 5 characters", "ไม่เกิน 5 ตัวอักษร"),
        ({"title": 5}, "string_type", "valid string", "ต้องเป็นข้อความ"),
        ({"count": -1}, "greater_than_equal", "greater than or equal to 0", "ไม่น้อยกว่า 0"),
        ({"count": 11}, "less_than_equal", "less than or equal to 10", "ต้องไม่เกิน 10"),
        ({"count": "7"}, "int_type", "valid integer", "จำนวนเต็ม"),
        ({"count": "๕"}, "int_type", "Thai digits", "เลขไทย"),
        ({"kind": "x"}, "literal_error", "'cast' or 'sustainable_village'", "'cast' หรือ '"),
        ({"tags": []}, "too_short", "at least 1 item", "อย่างน้อย 1 รายการ"),
        ({"other": 1}, "extra_forbidden", "Extra inputs are not permitted", "ไม่รู้จักช่องนี้"),
    ],
)
def test_field_errors_are_said_in_thai_by_pydantic_type(
    body: dict[str, object], kind: str, english: str, thai: str
) -> None:
    full = {"title": "a", "count": 1, "kind": "cast", "tags": ["t"]}
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate({**(full if body else {}), **body})
    errors = [e for e in field_errors(caught.value.errors()) if e["type"] == kind]
    assert errors, caught.value.errors()
    assert english in errors[0]["message"]
    assert thai in errors[0]["message"].in_language("th")


TODAY = dt.date(2026, 11, 29)
ActivityDate = TypeAdapter(Annotated[dt.date, written_date(not_after=lambda: TODAY)])
AnyDate = TypeAdapter(Annotated[dt.date, written_date()])


@pytest.mark.parametrize(
    ("value", "kind", "suggested"),
    [
        ("2568-02-14", "buddhist_era", "2025-02-14"),
        ("2567-02-29", "buddhist_era", "2024-02-29"),  # a leap day of 2024, not of 2567
        ("๒๕๖๘-๐๒-๑๔", "date_format", "2025-02-14"),  # Thai digits, Buddhist Era
        ("๒๐๒๕-๐๒-๑๔", "date_format", "2025-02-14"),  # Thai digits only
    ],
)
def test_written_date_names_buddhist_era_and_thai_digits(
    value: str, kind: str, suggested: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ActivityDate.validate_python(value)
    [error] = field_errors(caught.value.errors())
    assert error["type"] == kind
    assert suggested in error["message"]
    assert suggested in error["message"].in_language("th")
    if kind == "buddhist_era":
        assert error["message"].in_language("th") == f"ใช้ปี ค.ศ. ({suggested}) ไม่ใช่ปี พ.ศ."
    else:
        assert "Thai digits" in error["message"]
        assert "เลขไทย" in error["message"].in_language("th")


def test_written_date_takes_christian_era_dates_and_leaves_the_future_to_the_field() -> None:
    assert ActivityDate.validate_python("2025-02-14") == dt.date(2025, 2, 14)
    # 2570 BE is 2027: in the future either way, so not named a Buddhist-era year
    assert ActivityDate.validate_python("2570-01-01") == dt.date(2570, 1, 1)
    with pytest.raises(ValidationError, match="Christian-era year \\(2027-01-15\\)"):
        AnyDate.validate_python("2570-01-15")  # a deadline may be in the future
    with pytest.raises(ValidationError, match="date_format"):
        AnyDate.validate_python(20250214)
