"""The month-by-month trend shows the months that have come, not a fall to 0 in the future."""

from __future__ import annotations

import datetime as dt

from warroom_web.pages.area import months_so_far


def _row(key: str, reports: int) -> dict[str, object]:
    return {"key": key, "name_th": key, "name_en": key, "reports": reports}


def test_a_quarter_under_way_shows_its_months_so_far() -> None:
    rows = [_row("2569-10", 10_111), _row("2569-11", 9_700), _row("2569-12", 0), _row("unknown", 0)]
    shown = months_so_far(rows, dt.date(2026, 11, 30))  # Buddhist Era 2569
    assert [row["key"] for row in shown] == ["2569-10", "2569-11"]


def test_a_past_quarter_shows_every_month_and_reports_of_unknown_month() -> None:
    rows = [_row("2568-01", 5), _row("2568-02", 0), _row("2568-03", 7), _row("unknown", 2)]
    shown = months_so_far(rows, dt.date(2026, 11, 30))
    assert [row["key"] for row in shown] == ["2568-01", "2568-02", "2568-03", "unknown"]
