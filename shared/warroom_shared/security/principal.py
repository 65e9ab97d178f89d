"""The caller of a request, and which part of the country it may see.

Thai place codes nest: a district code starts with its province's two digits (1001 is in 10),
so "is this district mine" needs no lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccessRole(StrEnum):
    """What a token's holder may do (not to be confused with the ten district-team roles)."""

    ADMIN = "admin"
    NATIONAL_VIEWER = "national_viewer"
    PROVINCE_OFFICER = "province_officer"  # area: a province code (2 digits)
    DISTRICT_OFFICER = "district_officer"  # area: a district code (4 digits)
    MONITOR = "monitor"  # read-only totals and events


AREA_DIGITS = {AccessRole.PROVINCE_OFFICER: 2, AccessRole.DISTRICT_OFFICER: 4}


@dataclass(frozen=True)
class Principal:
    subject: str
    role: AccessRole
    area: str | None = None  # province or district code for officers, else None

    @property
    def national(self) -> bool:
        """Sees the whole country (within what its role may do)."""
        return self.role not in AREA_DIGITS

    def covers_district(self, district_code: str) -> bool:
        if self.national:
            return True
        assert self.area is not None
        return district_code.startswith(self.area)

    def covers_province(self, province_code: str) -> bool:
        """The whole province: national roles, and the officer of that province."""
        return self.national or (
            self.role is AccessRole.PROVINCE_OFFICER and self.area == province_code
        )

    def covers(self, scope: str, code: str | None) -> bool:
        """A place by level: `national` (code unused), `province` or `district`."""
        if scope == "national" or code is None:
            return self.national
        if scope == "province":
            return self.covers_province(code)
        return self.covers_district(code)

    @property
    def province(self) -> str | None:
        """The province an officer's area lies in."""
        return None if self.area is None else self.area[:2]

    @property
    def district(self) -> str | None:
        return self.area if self.role is AccessRole.DISTRICT_OFFICER else None
