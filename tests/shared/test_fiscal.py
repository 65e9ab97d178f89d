import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from pydantic import BeforeValidator, TypeAdapter, ValidationError

from warroom_shared.fiscal import (
    _PLAIN_DATE,
    BANGKOK,
    FiscalPeriod,
    _written,
    fiscal_period,
    fiscal_year_start,
    today_bangkok,
    written_date,
)
from warroom_shared.http import field_errors


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2024, 9, 30), FiscalPeriod(2567, 4)),
        (dt.date(2024, 10, 1), FiscalPeriod(2568, 1)),
        (dt.date(2024, 12, 31), FiscalPeriod(2568, 1)),
        (dt.date(2025, 1, 1), FiscalPeriod(2568, 2)),
        (dt.date(2025, 3, 31), FiscalPeriod(2568, 2)),
        (dt.date(2025, 4, 1), FiscalPeriod(2568, 3)),
        (dt.date(2025, 6, 30), FiscalPeriod(2568, 3)),
        (dt.date(2025, 7, 1), FiscalPeriod(2568, 4)),
        (dt.date(2025, 9, 30), FiscalPeriod(2568, 4)),
    ],
)
def test_fiscal_period_maps_dates(day: dt.date, expected: FiscalPeriod) -> None:
    assert fiscal_period(day) == expected


def test_fiscal_year_start_is_first_of_october() -> None:
    assert fiscal_year_start(2568) == dt.date(2024, 10, 1)
    assert fiscal_period(fiscal_year_start(2568)) == FiscalPeriod(2568, 1)


def test_today_is_bangkok_date() -> None:
    # 20:00 UTC on 30 Sep is already 1 Oct in Bangkok (UTC+7): a new fiscal year there.
    late_utc = dt.datetime(2025, 9, 30, 20, 0, tzinfo=dt.UTC)
    assert today_bangkok(late_utc) == dt.date(2025, 10, 1)
    assert fiscal_period(today_bangkok(late_utc)) == FiscalPeriod(2569, 1)
    assert today_bangkok(dt.datetime(2025, 9, 30, 16, 59, tzinfo=dt.UTC)).month == 9
    assert BANGKOK.key == "Asia/Bangkok"


TODAY = dt.date(2026, 11, 29)
# Dates as clients write them, right and wrong: `written_date` takes the plain ones (ASCII
# digits, a year before 2400) without its full rule (`_written`); both must answer alike.
WRITTEN = [
    "2025-02-14", "2024-02-29", "2025-02-29", "2025-02-30", "2025-13-01", "2025-00-10",
    "0000-01-01", "0001-01-01", "1999-12-31", "2399-12-31", "2400-01-01", "2399-02-29",
    "2568-02-14", "2567-02-29", "2568-02-29", "2569-11-29", "2569-11-30", "2570-01-15",
    "9999-12-31", "2025-2-14", "25-02-14", "2025/02/14", "20250214", "2025-02-14T00:00:00",
    " 2025-02-14", "2025-02-14 ", "2025-02-14\n", "", "๒๕๖๘-๐๒-๑๔", "๒๐๒๕-๐๒-๑๔",
    "2025-๐๒-14", "๒๕๗๐-๐๑-๑๕", "２０２５-０２-１４", "٢٠٢٥-٠٢-١٤", "2025\u201102\u201114",
    20250214, 2025.0, None, True, b"2025-02-14", ["2025-02-14"],
    dt.date(2025, 2, 14), dt.datetime(2025, 2, 14, 10, 0),
]  # fmt: skip


def _outcome(adapter: TypeAdapter[dt.date], value: Any) -> object:
    """What a field answers a value: the date, or each error's type and message in both
    languages."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        return [
            (e["type"], str(e["message"]), e["message"].in_language("th"))
            for e in field_errors(exc.errors())
        ]


@pytest.mark.parametrize("not_after", [None, lambda: TODAY], ids=["any", "not_after"])
def test_written_date_answers_as_its_full_rule(not_after: Callable[[], dt.date] | None) -> None:
    fast = TypeAdapter(Annotated[dt.date, written_date(not_after)])
    full = TypeAdapter(Annotated[dt.date, BeforeValidator(lambda v: _written(v, not_after))])
    for value in WRITTEN:
        assert _outcome(fast, value) == _outcome(full, value), value
        if isinstance(value, str):
            json = f'"{value}"'.encode() if value.isprintable() else None
            if json is not None:
                assert _outcome_json(fast, json) == _outcome_json(full, json), value


def _outcome_json(adapter: TypeAdapter[dt.date], raw: bytes) -> object:
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        return [(e["type"], str(e["message"])) for e in field_errors(exc.errors())]


def test_written_date_takes_only_plain_dates_without_its_full_rule() -> None:
    plain = [v for v in WRITTEN if isinstance(v, str) and _PLAIN_DATE(v)]
    assert plain == [
        "2025-02-14", "2024-02-29", "2025-02-29", "2025-02-30", "2025-13-01", "2025-00-10",
        "0000-01-01", "0001-01-01", "1999-12-31", "2399-12-31", "2399-02-29",
    ]  # fmt: skip
    # the full rule takes each as it was written, for pydantic to read (or refuse) as a date
    assert all(_written(v, lambda: TODAY) == v for v in plain)
    fast = TypeAdapter(Annotated[dt.date, written_date()])
    assert fast.validate_python("2399-12-31") == dt.date(2399, 12, 31)
    with pytest.raises(ValidationError, match="date_from_datetime_parsing"):
        fast.validate_python("2025-02-30")
