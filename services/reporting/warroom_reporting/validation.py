"""Checks that need the district directory: codes must exist and nest. 422 per field."""

from __future__ import annotations

from typing import Any

from warroom_reporting.models import ReportContent
from warroom_shared.directory import DistrictDirectory
from warroom_shared.http import Problem

RETRY_AFTER_SECONDS = 5


def require_ready(directory: DistrictDirectory) -> None:
    """Refuse to accept unchecked data while the directory has not loaded yet."""
    if not directory.ready.is_set():
        raise Problem(
            503, "directory_unavailable",
            "The district directory is not available yet; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )  # fmt: skip


def place_errors(directory: DistrictDirectory, content: ReportContent) -> list[dict[str, Any]]:
    """Field errors of the report's district and subdistrict codes (empty when they are fine)."""
    if directory.get(content.district_code) is None:
        return [_error("district_code", f"unknown district {content.district_code}")]
    sub = content.subdistrict_code
    if sub is not None and not directory.has_subdistrict(content.district_code, sub):
        return [
            _error("subdistrict_code", f"{sub} is not a subdistrict of {content.district_code}")
        ]
    return []


def _error(field: str, message: str) -> dict[str, Any]:
    return {"field": field, "message": message, "type": "unknown_code"}


def refuse(errors: list[dict[str, Any]]) -> Problem:
    return Problem(422, "invalid_fields", "Some fields are invalid.", fields=errors)
