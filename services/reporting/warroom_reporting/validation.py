"""Checks that need the district directory: codes must exist and nest, the district must take part
in the programme, and a Sustainable Village report must name a village designated for its fiscal
year. 422 per field; a programme rule's refusal says why, in the caller's language."""

from __future__ import annotations

from typing import Any

from warroom_reporting.models import ReportContent
from warroom_shared.directory import DistrictDirectory
from warroom_shared.domain import Programme
from warroom_shared.events import DirectoryDistrict
from warroom_shared.fiscal import fiscal_period
from warroom_shared.http import Problem
from warroom_shared.i18n import Message

RETRY_AFTER_SECONDS = 5
OUTSIDE_PROGRAMME = "outside_programme"
NOT_DESIGNATED = "not_designated"
PROGRAMME_RULES = frozenset({OUTSIDE_PROGRAMME, NOT_DESIGNATED})


def require_ready(directory: DistrictDirectory) -> None:
    """Refuse to accept unchecked data while the directory has not loaded yet."""
    if not directory.ready.is_set():
        raise Problem(
            503, "directory_unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )


def place_errors(directory: DistrictDirectory, content: ReportContent) -> list[dict[str, Any]]:
    """Field errors of the report's place (empty when it is fine): its codes, the programme's
    scope, and a Sustainable Village report's designated village."""
    district = directory.get(content.district_code)
    if district is None:
        message = Message("unknown_code", code=content.district_code)
        return [_error("district_code", message, "unknown_code")]
    sub = content.subdistrict_code
    if sub is not None and not directory.has_subdistrict(content.district_code, sub):
        message = Message("not_a_subdistrict", subdistrict=sub, district=content.district_code)
        return [_error("subdistrict_code", message, "unknown_code")]
    if not district.in_programme:
        return [_outside_programme(district)]
    if content.programme is Programme.SUSTAINABLE_VILLAGE:
        return _village_errors(directory, content)
    return []


def _outside_programme(district: DirectoryDistrict) -> dict[str, Any]:
    """Worded as the registry words it for a team."""
    message = Message(
        "outside_programme_khet" if district.kind == "khet" else OUTSIDE_PROGRAMME,
        name_th=district.name_th, name_en=district.name_en, code=district.code,
    )  # fmt: skip
    return _error("district_code", message, OUTSIDE_PROGRAMME)


def _village_errors(directory: DistrictDirectory, content: ReportContent) -> list[dict[str, Any]]:
    """A Sustainable Village report is the work of its designated village (หนึ่งตำบล หนึ่ง
    หมู่บ้านยั่งยืน): it names the subdistrict and village, designated for its fiscal year."""
    sub, village = content.subdistrict_code, content.village_no
    if sub is None or village is None:
        return [
            _error(field, Message("village_required"), "missing")
            for field, value in (("subdistrict_code", sub), ("village_no", village))
            if value is None
        ]
    year = fiscal_period(content.activity_date).year
    if directory.designated(content.district_code, year, sub, village):
        return []
    message = Message(NOT_DESIGNATED, village=village, subdistrict=sub, fiscal_year=year)
    return [_error("village_no", message, NOT_DESIGNATED)]


def _error(field: str, message: Message, type_: str) -> dict[str, Any]:
    return {"field": field, "message": message, "type": type_}


def refuse(errors: list[dict[str, Any]]) -> Problem:
    """422 for `place_errors`; a programme rule's refusal goes by the rule's own code."""
    if len(errors) == 1 and errors[0]["type"] in PROGRAMME_RULES:
        return Problem(422, errors[0]["type"], errors[0]["message"], fields=errors)
    return Problem(422, "invalid_fields", fields=errors)
