"""The programme's scope: which districts take part in CAST and the Sustainable Village programme.

Both are DOPA's, led by each district chief (นายอำเภอ): the 878 amphoe. Bangkok's 50 khet are
administered by the Bangkok Metropolitan Administration, which has no district chief, so they
stay in the geography but outside the programme unless an operator includes them
(`WARROOM_PROGRAMME_INCLUDES_KHET`). The scope travels with the district directory
(`in_programme`), so every "of N districts" elsewhere counts the same districts.
"""

from __future__ import annotations

from dataclasses import dataclass

from warroom_registry.geography import District
from warroom_shared.http import Problem
from warroom_shared.i18n import Message


@dataclass(frozen=True, slots=True)
class ProgrammeScope:
    includes_khet: bool = False

    def includes(self, district: District) -> bool:
        return self.includes_khet or district.kind != "khet"


def outside_programme(district: District) -> Problem:
    """422 for a team or a designation of a district outside the scope (a khet: why)."""
    return Problem(
        422,
        "outside_programme",
        Message(
            "outside_programme_khet" if district.kind == "khet" else "outside_programme",
            name_th=district.name_th, name_en=district.name_en, code=district.code,
        ),
    )  # fmt: skip
