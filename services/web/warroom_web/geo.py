"""The map's boundaries (`static/geo/`, see its SOURCE.md): which provinces and districts there
are, with their names, so that the map has every one of them, reported or not."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

GEO = Path(__file__).parent / "static" / "geo"


@cache
def places() -> dict[str, dict[str, Any]]:
    """Code -> properties (code, name_th, name_en; province_code for a district) of the 77
    provinces and 928 districts."""
    found = {}
    for name in ("provinces.geojson", "districts.geojson"):
        for feature in json.loads((GEO / name).read_text())["features"]:
            found[feature["properties"]["code"]] = feature["properties"]
    return found


def provinces() -> list[dict[str, Any]]:
    return [p for code, p in places().items() if len(code) == 2]


def districts_of(province: str) -> list[dict[str, Any]]:
    return [p for code, p in places().items() if len(code) == 4 and code[:2] == province]
