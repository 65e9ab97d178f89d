"""The events a report's changes produce: figures of the buckets it counts in."""

from __future__ import annotations

import datetime as dt
import uuid

from warroom_reporting.models import ReportContent
from warroom_shared.fiscal import fiscal_period, today_bangkok


def figures(content: ReportContent, province_code: str, received_on: dt.date) -> dict[str, object]:
    """The fields of the `ReportFigures` of one version of a report, as the event models take
    them and as `encoded_envelope` writes them. `received_on`: the day (Asia/Bangkok) the report
    was first received (`received_day`), the same in every version's figures, so that
    timeliness never moves with a correction."""
    period = fiscal_period(content.activity_date)
    return {
        "province_code": province_code,
        "district_code": content.district_code,
        "fiscal_year": period.year,
        "quarter": period.quarter,
        "programme": content.programme,
        "dimensions": content.dimensions,
        # by field, each a sector's in the sectors' order (not looked up sector by sector: a
        # third of the time building the figures took)
        "participants": dict(content.participants.__dict__),
        "households": content.households or 0,
        "stages": content.stages,
        "month": content.activity_date.month,
        "subdistrict_code": content.subdistrict_code,
        "village_no": content.village_no,
        "received_on": received_on,
    }


def received_day(received_at: dt.datetime) -> dt.date:
    """The day in Thailand of a moment the service received a report."""
    return today_bangkok(received_at)


def event_headers(report_id: uuid.UUID | str) -> dict[str, str]:
    """Headers that travel with the event on NATS, beside `Nats-Msg-Id`."""
    return {"Warroom-Report-Id": str(report_id)}
