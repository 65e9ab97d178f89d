"""Names to show beside codes: places from the district directory, the rest from the domain."""

from __future__ import annotations

from collections.abc import Callable

from warroom_shared.directory import DistrictDirectory
from warroom_shared.domain import DIMENSION_LABELS, PROGRAMME_LABELS, SECTOR_LABELS, Label

Names = tuple[str | None, str | None]
NO_NAME: Names = (None, None)
_DOMAIN: dict[str, dict[str, Label]] = {
    "programme": {k.value: v for k, v in PROGRAMME_LABELS.items()},
    "dimension": {k.value: v for k, v in DIMENSION_LABELS.items()},
    "sector": {k.value: v for k, v in SECTOR_LABELS.items()},
}


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
