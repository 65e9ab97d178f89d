"""The programme's reference data: sectors, team roles, stages, dimensions, programmes."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from fastapi import APIRouter, Depends, Request, Response

from warroom_shared.domain import (
    DIMENSION_LABELS,
    PROGRAMME_LABELS,
    ROLE_LABELS,
    SECTOR_LABELS,
    STAGE_LABELS,
    Label,
)
from warroom_shared.http import cacheable
from warroom_shared.security.access import EVERYONE, Allow

K = TypeVar("K", bound=StrEnum)

router = APIRouter(prefix="/v1", tags=["reference"], dependencies=[Depends(Allow(*EVERYONE))])


def _labelled(labels: Mapping[K, Label]) -> list[dict[str, str]]:
    return [{"code": code, "th": label.th, "en": label.en} for code, label in labels.items()]


REFERENCE = {
    "sectors": _labelled(SECTOR_LABELS),
    "roles": [
        {"code": role, "th": label.th, "en": label.en, "default_sector": sector}
        for role, (label, sector) in ROLE_LABELS.items()
    ],
    "stages": _labelled(STAGE_LABELS),
    "dimensions": _labelled(DIMENSION_LABELS),
    "programmes": _labelled(PROGRAMME_LABELS),
}


@router.get("/reference")
async def get_reference(request: Request) -> Response:
    """The 7 sectors, 10 team roles (with default sector), 4 stages, 8 dimensions, programmes."""
    return cacheable(request, REFERENCE)
