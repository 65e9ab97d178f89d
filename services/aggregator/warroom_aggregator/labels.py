"""Names to show beside codes: places from the district directory, the rest from the domain."""

from __future__ import annotations

from collections.abc import Callable

from warroom_shared.directory import DistrictDirectory
from warroom_shared.domain import (
    DIMENSION_LABELS,
    PROGRAMME_LABELS,
    SECTOR_LABELS,
    STAGE_LABELS,
    Label,
)

Names = tuple[str | None, str | None]
NO_NAME: Names = (None, None)
_DOMAIN: dict[str, dict[str, Label]] = {
    "programme": {k.value: v for k, v in PROGRAMME_LABELS.items()},
    "dimension": {k.value: v for k, v in DIMENSION_LABELS.items()},
    "sector": {k.value: v for k, v in SECTOR_LABELS.items()},
    "stage": {k.value: v for k, v in STAGE_LABELS.items()},
}
MONTHS_TH = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
             "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")  # fmt: skip
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip
UNKNOWN_MONTH = "unknown"
UNKNOWN_MONTH_NAMES: Names = ("ไม่ทราบเดือน", "Month unknown")


def place(directory: DistrictDirectory, scope: str, code: str) -> Names:
    """Thai and English names of a province or district; none for the nation or when unknown."""
    if scope == "district" and (district := directory.get(code)) is not None:
        return district.name_th, district.name_en
    if scope == "province" and (districts := directory.in_province(code)):
        return districts[0].province_name_th, districts[0].province_name_en
    return NO_NAME


def domain(kind: str, code: str) -> Names:
    """Names of a programme, dimension or sector code."""
    label = _DOMAIN.get(kind, {}).get(code)
    return (label.th, label.en) if label else NO_NAME


def namer(directory: DistrictDirectory, by: str) -> Callable[[str], Names]:
    """Names of the keys of one breakdown (quarters have none)."""
    if by == "province":  # one pass over the directory, not one per province
        provinces = {d.province_code: (d.province_name_th, d.province_name_en)
                     for d in directory.districts.values()}  # fmt: skip
        return lambda code: provinces.get(code, NO_NAME)
    if by == "district":
        return lambda code: place(directory, "district", code)
    return lambda code: domain(by, code)


def months_of(quarter: int | None) -> list[int]:
    """Calendar months of a fiscal quarter, or of the whole fiscal year (October first)."""
    quarters = [quarter] if quarter is not None else [1, 2, 3, 4]
    return [(q * 3 + 6 + i) % 12 + 1 for q in quarters for i in range(3)]


def month_year(fiscal_year: int, month: int) -> int:
    """The Buddhist Era year a month of a fiscal year falls in (October to December: the one
    before)."""
    return fiscal_year - 1 if month >= 10 else fiscal_year


def month_key(fiscal_year: int, month: int) -> str:
    """`2568-02`: year (Buddhist Era) and month; sorts in time order."""
    return f"{month_year(fiscal_year, month)}-{month:02d}"


def month_names(fiscal_year: int, month: int) -> Names:
    """`ก.พ. 2568` and `Feb 2568`, as Thai government documents write months."""
    year = month_year(fiscal_year, month)
    return f"{MONTHS_TH[month - 1]} {year}", f"{MONTHS_EN[month - 1]} {year}"
