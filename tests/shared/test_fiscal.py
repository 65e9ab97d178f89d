import datetime as dt

import pytest

from warroom_shared.fiscal import (
    BANGKOK,
    FiscalPeriod,
    fiscal_period,
    fiscal_year_start,
    today_bangkok,
)


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
