"""The Thai government fiscal calendar: FY starts 1 October and is named in the Buddhist Era.

Dates are written `YYYY-MM-DD` in the Christian Era with ASCII digits (`written_date`). The
Buddhist Era is the year most Thai forms use, so a date written in it is the likeliest mistake:
it is named as such, with the date to write instead, as is a date written with Thai digits."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator

from warroom_shared.i18n import custom_error
from warroom_shared.text import ascii_digits

BANGKOK = ZoneInfo("Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543
# no date the platform takes is this late in the Christian Era: such a year is Buddhist Era
_BUDDHIST_ERA_FROM = 2400
_ISO_DATE = re.compile("([0-9]{4})-([0-9]{2})-([0-9]{2})")
# What nearly every date is: ASCII digits, a year before _BUDDHIST_ERA_FROM, which `_written`
# takes as it is; `written_date` takes it so without the rest of the checks.
_PLAIN_DATE = re.compile("(?:[01][0-9]{3}|2[0-3][0-9]{2})-[0-9]{2}-[0-9]{2}").fullmatch


class FiscalPeriod(NamedTuple):
    year: int  # Buddhist Era, e.g. 2568
    quarter: int  # 1..4, Q1 = Oct-Dec

    def __str__(self) -> str:
        return f"FY{self.year} Q{self.quarter}"


def fiscal_period(day: dt.date) -> FiscalPeriod:
    """Map a calendar date to its fiscal year (BE) and quarter."""
    ce_year = day.year + 1 if day.month >= 10 else day.year
    quarter = ((day.month - 10) % 12) // 3 + 1
    return FiscalPeriod(ce_year + BUDDHIST_ERA_OFFSET, quarter)


def fiscal_year_start(year_be: int) -> dt.date:
    """First day of a fiscal year given in the Buddhist Era."""
    return dt.date(year_be - BUDDHIST_ERA_OFFSET - 1, 10, 1)


def today_bangkok(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Thailand, which decides what 'the future' means for a report."""
    moment = now or dt.datetime.now(tz=BANGKOK)
    return moment.astimezone(BANGKOK).date()


def current_period(now: dt.datetime | None = None) -> FiscalPeriod:
    return fiscal_period(today_bangkok(now))


def written_date(not_after: Callable[[], dt.date] | None = None) -> BeforeValidator:
    """A date field's rule: a string `YYYY-MM-DD`, not a number nor another layout, in the
    Christian Era (a Buddhist-era year that gives a date no later than `not_after()` is named
    as one), with ASCII digits."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and _PLAIN_DATE(value) is not None:
            return value  # what `_written` answers it, at a tenth of the cost
        return _written(value, not_after)

    return BeforeValidator(check)


def _written(value: Any, not_after: Callable[[], dt.date] | None) -> Any:
    """`written_date`'s rule in full: the value, or the error that names what is wrong."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value  # read back from the database
    thai = ascii_digits(value) if isinstance(value, str) else None
    written = thai or value
    found = _ISO_DATE.fullmatch(written) if isinstance(written, str) else None
    if found is None:
        raise custom_error("date_format")
    year, month, day = (int(part) for part in found.groups())
    ce = _christian_era(year, month, day, not_after)
    if thai is not None:
        raise custom_error("date_format", "thai_digit_date", suggested=(ce or written))
    if ce is not None:
        raise custom_error("buddhist_era", suggested=ce)
    return value


def _christian_era(
    year: int, month: int, day: int, not_after: Callable[[], dt.date] | None
) -> str | None:
    """The Christian-era date of a date written in the Buddhist Era, or None when it is not
    one: its year is too early for the Buddhist Era, or the date it gives does not exist or
    is later than `not_after`."""
    if year < _BUDDHIST_ERA_FROM:
        return None
    try:
        day_ce = dt.date(year - BUDDHIST_ERA_OFFSET, month, day)
    except ValueError:
        return None
    if not_after is not None and day_ce > not_after():
        return None
    return day_ce.isoformat()
