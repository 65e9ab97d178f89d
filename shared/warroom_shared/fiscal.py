"""The Thai government fiscal calendar: FY starts 1 October and is named in the Buddhist Era."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543


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
