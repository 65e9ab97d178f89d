"""Checks that need the district directory: codes must exist and nest, the district must take part
in the programme, and a Sustainable Village report must name a village designated for its fiscal
year. 422 per field; a programme rule's refusal says why in Thai and English."""

from __future__ import annotations

from typing import Any

from warroom_reporting.models import ReportContent
from warroom_shared.directory import DistrictDirectory
from warroom_shared.domain import Programme
from warroom_shared.events import DirectoryDistrict
from warroom_shared.fiscal import fiscal_period
from warroom_shared.http import Problem

RETRY_AFTER_SECONDS = 5
OUTSIDE_PROGRAMME = "outside_programme"
NOT_DESIGNATED = "not_designated"
PROGRAMME_RULES = frozenset({OUTSIDE_PROGRAMME, NOT_DESIGNATED})


def require_ready(directory: DistrictDirectory) -> None:
    """Refuse to accept unchecked data while the directory has not loaded yet."""
    if not directory.ready.is_set():
        raise Problem(
            503, "directory_unavailable",
            "The district directory is not available yet; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )  # fmt: skip


def place_errors(directory: DistrictDirectory, content: ReportContent) -> list[dict[str, Any]]:
    """Field errors of the report's place (empty when it is fine): its codes, the programme's
    scope, and a Sustainable Village report's designated village."""
    district = directory.get(content.district_code)
    if district is None:
        return [_error("district_code", f"unknown district {content.district_code}")]
    sub = content.subdistrict_code
    if sub is not None and not directory.has_subdistrict(content.district_code, sub):
        return [
            _error("subdistrict_code", f"{sub} is not a subdistrict of {content.district_code}")
        ]
    if not district.in_programme:
        return [_outside_programme(district)]
    if content.programme is Programme.SUSTAINABLE_VILLAGE:
        return _village_errors(directory, content)
    return []


def _outside_programme(district: DirectoryDistrict) -> dict[str, Any]:
    """Worded as the registry words it for a team."""
    th, en = f"{district.name_th} ({district.code})", f"{district.name_en} ({district.code})"
    message = (
        f"{th} อยู่นอกโครงการ: เขตของกรุงเทพมหานครไม่มีนายอำเภอ "
        "จึงเข้าร่วมโครงการเมื่อผู้ดูแลระบบรวมไว้เท่านั้น / "
        f"{en} is outside the programme: Bangkok's khet have no district chief and take part "
        "only when an operator includes them."
        if district.kind == "khet"
        else f"{th} อยู่นอกโครงการ / {en} is outside the programme."
    )
    return {"field": "district_code", "message": message, "type": OUTSIDE_PROGRAMME}


def _village_errors(directory: DistrictDirectory, content: ReportContent) -> list[dict[str, Any]]:
    """A Sustainable Village report is the work of its designated village (หนึ่งตำบล หนึ่ง
    หมู่บ้านยั่งยืน): it names the subdistrict and village, designated for its fiscal year."""
    sub, village = content.subdistrict_code, content.village_no
    if sub is None or village is None:
        return [
            {"field": field, "message": "รายงานหมู่บ้านยั่งยืนระบุหมู่บ้านที่กำหนดไว้: ระบุตำบลและหมู่ที่ / "
             "a Sustainable Village report names its designated village: give "
             "subdistrict_code and village_no", "type": "missing"}
            for field, value in (("subdistrict_code", sub), ("village_no", village))
            if value is None
        ]  # fmt: skip
    year = fiscal_period(content.activity_date).year
    if directory.designated(content.district_code, year, sub, village):
        return []
    message = (
        f"หมู่ที่ {village} ตำบล {sub} ไม่ใช่หมู่บ้านยั่งยืนที่กำหนดไว้ของปีงบประมาณ {year} / "
        f"Village {village} of subdistrict {sub} is not a designated Sustainable Village "
        f"of fiscal year {year}"
    )
    return [{"field": "village_no", "message": message, "type": NOT_DESIGNATED}]


def _error(field: str, message: str) -> dict[str, Any]:
    return {"field": field, "message": message, "type": "unknown_code"}


def refuse(errors: list[dict[str, Any]]) -> Problem:
    """422 for `place_errors`; a programme rule's refusal goes by the rule's own code."""
    if len(errors) == 1 and errors[0]["type"] in PROGRAMME_RULES:
        return Problem(422, errors[0]["type"], errors[0]["message"], fields=errors)
    return Problem(422, "invalid_fields", "Some fields are invalid.", fields=errors)
