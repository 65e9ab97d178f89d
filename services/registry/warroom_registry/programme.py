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


@dataclass(frozen=True, slots=True)
class ProgrammeScope:
    includes_khet: bool = False

    def includes(self, district: District) -> bool:
        return self.includes_khet or district.kind != "khet"


def outside_programme(district: District) -> Problem:
    """422 for a team or a designation of a district outside the scope, in Thai and English."""
    return Problem(
        422,
        "outside_programme",
        f"{district.name_th} ({district.code}) อยู่นอกโครงการ: เขตของกรุงเทพมหานครไม่มีนายอำเภอ "
        "จึงเข้าร่วมโครงการเมื่อผู้ดูแลระบบรวมไว้เท่านั้น / "
        f"{district.name_en} ({district.code}) is outside the programme: Bangkok's khet have no "
        "district chief and take part only when an operator includes them.",
    )
