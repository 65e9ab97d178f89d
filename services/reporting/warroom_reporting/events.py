"""The events a report's changes produce: figures of the buckets it counts in."""

from __future__ import annotations

import uuid

from warroom_reporting.models import ReportContent
from warroom_shared.events import ReportFigures
from warroom_shared.fiscal import fiscal_period


def figures(content: ReportContent, province_code: str) -> ReportFigures:
    period = fiscal_period(content.activity_date)
    return ReportFigures(
        province_code=province_code,
        district_code=content.district_code,
        fiscal_year=period.year,
        quarter=period.quarter,
        programme=content.programme,
        dimensions=list(content.dimensions),
        participants=content.participants.by_sector(),
        households=content.households or 0,
    )


def event_headers(report_id: uuid.UUID) -> dict[str, str]:
    """Headers that travel with the event on NATS, beside `Nats-Msg-Id`."""
    return {"Warroom-Report-Id": str(report_id)}
