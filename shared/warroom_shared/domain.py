"""Domain reference data of the CAST programme: sectors, team roles, stages, dimensions, programmes.

Codes are stable English identifiers used in APIs and events; labels are for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Sector(StrEnum):
    GOVERNMENT = "government"
    PRIVATE = "private"
    RELIGIOUS = "religious"
    CIVIL_SOCIETY = "civil_society"
    ACADEMIC = "academic"
    PEOPLE = "people"
    MEDIA = "media"


class Role(StrEnum):
    DISTRICT_CHIEF = "district_chief"
    DEPUTY_DISTRICT_CHIEF = "deputy_district_chief"
    LOCAL_ADMINISTRATION = "local_administration"
    VILLAGE_HEADMEN = "village_headmen"
    WOMENS_DEVELOPMENT = "womens_development"
    RELIGIOUS_LEADER = "religious_leader"
    PEOPLE_LEADER = "people_leader"
    ACADEMIC_LEADER = "academic_leader"
    PRIVATE_LEADER = "private_leader"
    ROYAL_LEARNING_CENTRE = "royal_learning_centre"


class Stage(StrEnum):
    TALK = "talk"
    THINK = "think"
    ACT = "act"
    BENEFIT = "benefit"


class Dimension(StrEnum):
    HOUSING = "housing"
    WATER = "water"
    EDUCATION = "education"
    INCOME = "income"
    VULNERABLE_GROUPS = "vulnerable_groups"
    SAFETY = "safety"
    SELF_SOLVABLE_HARDSHIP = "self_solvable_hardship"
    UNSOLVABLE_HARDSHIP = "unsolvable_hardship"


class Programme(StrEnum):
    """The programmes whose reports are counted. Best-practice stories are shared, not reported:
    they are never a report programme, so no story inflates a count or completes a district."""

    CAST = "cast"
    SUSTAINABLE_VILLAGE = "sustainable_village"


@dataclass(frozen=True, slots=True)
class Label:
    th: str
    en: str


SECTOR_LABELS: dict[Sector, Label] = {
    Sector.GOVERNMENT: Label("ภาคราชการ", "Government"),
    Sector.PRIVATE: Label("ภาคเอกชน", "Private"),
    Sector.RELIGIOUS: Label("ภาคศาสนา", "Religious"),
    Sector.CIVIL_SOCIETY: Label("ภาคประชาสังคม", "Civil society"),
    Sector.ACADEMIC: Label("ภาควิชาการ", "Academic"),
    Sector.PEOPLE: Label("ภาคประชาชน", "People"),
    Sector.MEDIA: Label("ภาคสื่อมวลชน", "Media"),
}

ROLE_LABELS: dict[Role, tuple[Label, Sector]] = {
    Role.DISTRICT_CHIEF: (Label("นายอำเภอ", "District chief"), Sector.GOVERNMENT),
    Role.DEPUTY_DISTRICT_CHIEF: (Label("ปลัดอำเภอ", "Deputy district chief"), Sector.GOVERNMENT),
    Role.LOCAL_ADMINISTRATION: (
        Label(
            "ตัวแทนผู้นำองค์กรปกครองส่วนท้องถิ่นโดยตำแหน่ง",
            "Local administrative organisation representative (ex officio)",
        ),
        Sector.GOVERNMENT,
    ),
    Role.VILLAGE_HEADMEN: (
        Label("ตัวแทนกำนัน ผู้ใหญ่บ้าน", "Representative of kamnan / village headmen"),
        Sector.GOVERNMENT,
    ),
    Role.WOMENS_DEVELOPMENT: (
        Label("ประธานคณะกรรมการพัฒนาสตรีอำเภอ", "Chair, district women's development committee"),
        Sector.CIVIL_SOCIETY,
    ),
    Role.RELIGIOUS_LEADER: (Label("ผู้นำภาคศาสนา", "Religious leader"), Sector.RELIGIOUS),
    Role.PEOPLE_LEADER: (Label("ผู้นำภาคประชาชน", "People-sector leader"), Sector.PEOPLE),
    Role.ACADEMIC_LEADER: (Label("ผู้นำภาควิชาการ", "Academic leader"), Sector.ACADEMIC),
    Role.PRIVATE_LEADER: (Label("ผู้นำภาคเอกชน", "Private-sector leader"), Sector.PRIVATE),
    Role.ROYAL_LEARNING_CENTRE: (
        Label(
            "หัวหน้าศูนย์เรียนรู้โครงการอันเนื่องมาจากพระราชดำริต้นแบบหรือผู้แทน",
            "Head of a royal-initiative learning centre, or representative",
        ),
        Sector.CIVIL_SOCIETY,
    ),
}

STAGE_LABELS: dict[Stage, Label] = {
    Stage.TALK: Label("ร่วมพูดคุย", "Talk together"),
    Stage.THINK: Label("ร่วมคิด", "Think together"),
    Stage.ACT: Label("ร่วมทำ", "Act together"),
    Stage.BENEFIT: Label("ร่วมรับประโยชน์", "Benefit together"),
}

DIMENSION_LABELS: dict[Dimension, Label] = {
    Dimension.HOUSING: Label("ที่อยู่อาศัย", "Housing"),
    Dimension.WATER: Label("น้ำดื่ม/น้ำใช้", "Drinking and household water"),
    Dimension.EDUCATION: Label("การศึกษา", "Education"),
    Dimension.INCOME: Label("รายได้และอาชีพ", "Income and occupation"),
    Dimension.VULNERABLE_GROUPS: Label("กลุ่มเปราะบาง", "Vulnerable groups"),
    Dimension.SAFETY: Label("ความปลอดภัย", "Safety"),
    Dimension.SELF_SOLVABLE_HARDSHIP: Label(
        "ความเดือดร้อนที่แก้ไขด้วยตนเองได้", "Hardship people can solve themselves"
    ),
    Dimension.UNSOLVABLE_HARDSHIP: Label(
        "ความเดือดร้อนที่ไม่สามารถแก้ไขด้วยตนเอง", "Hardship people cannot solve themselves"
    ),
}

PROGRAMME_LABELS: dict[Programme, Label] = {
    Programme.CAST: Label(
        "อำเภอบำบัดทุกข์ บำรุงสุข แบบบูรณาการอย่างยั่งยืน (CAST)",
        "Change Agent for Strategic Transformation",
    ),
    Programme.SUSTAINABLE_VILLAGE: Label(
        "โครงการหมู่บ้านยั่งยืน (Sustainable Village)", "Sustainable Village"
    ),
}
