"""The demo's fictional content: who sits on each district team, which villages are designated and
what each report says. Everything is drawn from the seed and a name (a district, a role, a
report's index), never from what was drawn before, so the same seed gives the same data in any
order and on any day, and more reports add to the ones already there."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from warroom_aggregator.deadlines import quarter_end, quarter_start
from warroom_shared.domain import Dimension, Programme, Role, Sector, Stage
from warroom_shared.fiscal import FiscalPeriod

NAMESPACE = uuid.UUID("0b5d3c1e-6a43-4f7e-9a55-2f6c8d1e4b70")  # of the demo's report ids

SILENT_SHARE = 0.03  # districts that never report (not yet)
EXAMPLE_DISTRICT = "1201"  # the README's example (Mueang Nonthaburi): always reports on time
LATE_SHARE = 0.02  # districts that report only after the deadline
LATE_REPORTS_EACH = 3
VILLAGE_SHARE = 0.4  # districts that designate a Sustainable Village in every subdistrict
SUSTAINABLE_SHARE = 0.35  # of a designating district's reports
GAPS_SHARE = 0.15  # districts with a few roles left empty

MALE = (
    "สมชาย",
    "ประเสริฐ",
    "วิชัย",
    "สุรชัย",
    "อนุชา",
    "ธนากร",
    "กิตติพงษ์",
    "ชาญวิทย์",
    "ณรงค์",
    "บุญมี",
    "สมบัติ",
    "ไพโรจน์",
    "วีระพงษ์",
    "อภิชาติ",
    "ศักดิ์ชัย",
    "ทองดี",
    "มานพ",
    "เกียรติศักดิ์",
)
FEMALE = (
    "สมศรี",
    "มาลี",
    "วันเพ็ญ",
    "จันทร์เพ็ญ",
    "สุดารัตน์",
    "พรทิพย์",
    "กาญจนา",
    "รัตนา",
    "อรุณี",
    "นงลักษณ์",
    "บุษบา",
    "ปราณี",
    "ศิริพร",
    "ดวงใจ",
    "อัมพร",
    "เยาวลักษณ์",
    "สายสุนีย์",
    "ลำดวน",
)
SURNAMES = ("ใจดี", "มีสุข", "ศรีสวัสดิ์", "บุญมา", "แก้วมณี", "ทองคำ", "สุขประเสริฐ", "รุ่งเรือง",
            "พรหมมา", "จันทร์หอม", "วงศ์สวัสดิ์", "ศรีทอง", "ชัยมงคล", "อินทร์แก้ว", "นาคสุข", "เพชรรัตน์",
            "สายบุญ", "คำแสน", "ปัญญาดี", "บุญเรือง", "มั่นคง", "ธรรมรักษ์")  # fmt: skip
MONKS = ("พระครูสุนทรธรรมวิจิตร", "พระครูปัญญาวรคุณ", "พระครูสิริธรรมรส", "พระอธิการสมบูรณ์ ปุญฺญวโร",
         "พระครูวิมลธรรมโชติ", "พระมหาประสิทธิ์ ญาณวโร")  # fmt: skip
PLACES = ("หนองบัว", "โนนสูง", "ดอนแก้ว", "สวนใหญ่", "ท่าช้าง", "หัวนา", "โคกกลาง", "ห้วยทราย",
          "นาดี", "บ่อทอง", "ป่าแดง", "คลองใหม่", "วังน้ำเย็น", "หนองแวง", "ทุ่งสว่าง",
          "ศรีสำราญ")  # fmt: skip

ACTIVITIES: dict[Dimension, tuple[str, ...]] = {
    Dimension.HOUSING: ("ซ่อมแซมบ้านผู้ยากไร้", "ปรับปรุงที่อยู่อาศัยผู้สูงอายุ", "สร้างบ้านให้ครอบครัวยากจน"),
    Dimension.WATER: ("ซ่อมแซมประปาหมู่บ้าน", "ขุดลอกคลองส่งน้ำ", "แจกจ่ายน้ำดื่มช่วงภัยแล้ง"),
    Dimension.EDUCATION: ("มอบทุนการศึกษาแก่นักเรียนยากจน", "ปรับปรุงห้องสมุดโรงเรียน",
                          "สอนเสริมนักเรียนก่อนสอบ"),
    Dimension.INCOME: ("ฝึกอาชีพทำขนมไทย", "ส่งเสริมการปลูกผักปลอดสารพิษ", "ตั้งกลุ่มจักสานผลิตภัณฑ์ชุมชน"),
    Dimension.VULNERABLE_GROUPS: ("เยี่ยมบ้านผู้ป่วยติดเตียง", "มอบถุงยังชีพแก่ผู้พิการ", "ดูแลผู้สูงอายุที่อยู่ลำพัง"),
    Dimension.SAFETY: ("ตั้งจุดตรวจลดอุบัติเหตุ", "ติดตั้งไฟส่องสว่างในหมู่บ้าน", "อบรมอาสาสมัครป้องกันภัย"),
    Dimension.SELF_SOLVABLE_HARDSHIP: ("รับฟังปัญหาความเดือดร้อนของประชาชน", "ไกล่เกลี่ยข้อพิพาทในชุมชน"),
    Dimension.UNSOLVABLE_HARDSHIP: ("ประสานความช่วยเหลือผู้ประสบอุทกภัย", "ส่งต่อผู้ป่วยจิตเวชให้หน่วยงานดูแล"),
}  # fmt: skip
STAGE_WORDS = {Stage.TALK: "ร่วมพูดคุยรับฟังปัญหา", Stage.THINK: "ร่วมคิดวางแผน",
               Stage.ACT: "ร่วมลงมือทำ", Stage.BENEFIT: "ร่วมรับประโยชน์จากผลงาน"}  # fmt: skip
STAGE_ODDS = {Stage.TALK: 0.9, Stage.THINK: 0.7, Stage.ACT: 0.55, Stage.BENEFIT: 0.3}  # the funnel
REPORTERS = ("ปลัดอำเภอ", "ปลัดอำเภอ", "นายอำเภอ", "พัฒนาการอำเภอ", "เจ้าพนักงานปกครอง")


@dataclass(frozen=True)
class Place:
    """A district of the programme, as the registry lists it, with its subdistricts."""

    code: str
    province_code: str
    name_th: str
    subdistricts: tuple[tuple[str, str], ...]  # (code, Thai name)


def _rng(seed: int | str, *names: object) -> random.Random:
    return random.Random(":".join(str(n) for n in (seed, *names)))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(MALE + FEMALE)} {rng.choice(SURNAMES)}"


def members(seed: int, year: int, place: Place) -> dict[Role, dict[str, str]]:
    """The district team's members for the fiscal year; some districts leave a few roles empty
    (never the district chief's)."""
    rng = _rng(seed, "team", year, place.code)
    sub = rng.choice(place.subdistricts)[1] if place.subdistricts else place.name_th
    village = rng.choice(PLACES)
    amphoe = f"อำเภอ{place.name_th}"
    held = {
        Role.DISTRICT_CHIEF: ("นายอำเภอ", f"ที่ว่าการ{amphoe}"),
        Role.DEPUTY_DISTRICT_CHIEF: ("ปลัดอำเภอ", f"ที่ว่าการ{amphoe}"),
        Role.LOCAL_ADMINISTRATION: ("นายกองค์การบริหารส่วนตำบล", f"องค์การบริหารส่วนตำบล{sub}"),
        Role.VILLAGE_HEADMEN: ("กำนัน", f"ตำบล{sub}"),
        Role.WOMENS_DEVELOPMENT: ("ประธาน", f"คณะกรรมการพัฒนาสตรี{amphoe}"),
        Role.RELIGIOUS_LEADER: ("เจ้าอาวาส", f"วัด{village}"),
        Role.PEOPLE_LEADER: ("ประธานกลุ่ม", f"วิสาหกิจชุมชนบ้าน{village}"),
        Role.ACADEMIC_LEADER: ("ผู้อำนวยการโรงเรียน", f"โรงเรียนบ้าน{village}"),
        Role.PRIVATE_LEADER: ("กรรมการ", f"หอการค้าจังหวัด (สาขา{amphoe})"),
        Role.ROYAL_LEARNING_CENTRE: ("หัวหน้าศูนย์", f"ศูนย์เรียนรู้ตามแนวพระราชดำริบ้าน{village}"),
    }
    if rng.random() < GAPS_SHARE:
        for role in rng.sample(list(Role)[1:], rng.randint(1, 3)):
            del held[role]
    team = {}
    for role, (position, organisation) in held.items():
        name = rng.choice(MONKS) if role is Role.RELIGIOUS_LEADER else _person(rng)
        team[role] = {"name": name, "position": position, "organisation": organisation}
    return team


def villages(seed: int, year: int, place: Place) -> dict[str, dict[str, Any]]:
    """The Sustainable Village of each subdistrict, by subdistrict code: in a share of the
    districts, one village in every subdistrict; none elsewhere."""
    rng = _rng(seed, "villages", year, place.code)
    if rng.random() >= VILLAGE_SHARE:
        return {}
    return {
        code: {"village_no": rng.randint(1, 12), "name": f"บ้าน{rng.choice(PLACES)}"}
        for code, _ in place.subdistricts
    }


@dataclass(frozen=True)
class Cast:
    """Who reports in the demo: districts weighted by how busy they are (a few provinces much
    busier than the rest), the silent districts left out and the late ones apart."""

    key: str  # of the report ids: the seed, and how many districts when not all
    places: tuple[Place, ...]  # sorted by code
    weights: tuple[float, ...]  # cumulative, of the places that report on time
    on_time: tuple[Place, ...]
    late: tuple[Place, ...]


def drawn(seed: int, districts: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` of the districts, the same ones for the same seed."""
    return _rng(seed, "districts").sample(sorted(districts, key=lambda d: str(d["code"])), count)


def cast_of(seed: int, places: list[Place], limited: bool = False) -> Cast:
    """`limited`: the places are a draw of the programme's districts, whose reports differ from
    the whole programme's and so take ids of their own."""
    rng = _rng(seed, "cast")
    ordered = sorted(places, key=lambda p: p.code)
    provinces = sorted({p.province_code for p in ordered})
    busy = {code: min(rng.paretovariate(1.3), 25.0) for code in provinces}
    # the README's example district reports, so that its example officer token sees figures
    candidates = [p for p in ordered if p.code != EXAMPLE_DISTRICT]
    shuffled = rng.sample(candidates, len(candidates))
    silent = max(1, round(len(ordered) * SILENT_SHARE))
    late = max(1, round(len(ordered) * LATE_SHARE))
    held_back = {p.code for p in shuffled[: silent + late]}
    on_time = tuple(p for p in ordered if p.code not in held_back)
    total, cumulative = 0.0, []
    for place in on_time:
        total += busy[place.province_code] * rng.uniform(0.5, 1.5)
        cumulative.append(total)
    late_places = tuple(sorted(shuffled[silent : silent + late], key=lambda p: p.code))
    key = f"{seed}/{len(ordered)}" if limited else str(seed)
    return Cast(key, tuple(ordered), tuple(cumulative), on_time, late_places)


def report_id(key: str, period: FiscalPeriod, kind: str, index: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{key}:{kind}:{period.year}:{period.quarter}:{index}")


def quarter_report(
    cast: Cast, period: FiscalPeriod, index: int, designated: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, Any]:
    """Report `index` of the quarter, from a district that reports on time; a Sustainable
    Village report where the district designated its villages (`designated`, by district)."""
    rng = _rng(cast.key, "report", period.year, period.quarter, index)
    place = rng.choices(cast.on_time, cum_weights=cast.weights)[0]
    villages_here = designated.get(place.code, {})
    programme = Programme.CAST
    if villages_here and rng.random() < SUSTAINABLE_SHARE:
        programme = Programme.SUSTAINABLE_VILLAGE
    body = _report(rng, place, period, villages_here, programme)
    return {"report_id": str(report_id(cast.key, period, "report", index)), **body}


def late_reports(cast: Cast, period: FiscalPeriod) -> list[dict[str, Any]]:
    """The late districts' CAST reports of a quarter whose deadline has passed."""
    out = []
    for index in range(len(cast.late) * LATE_REPORTS_EACH):
        rng = _rng(cast.key, "late", period.year, period.quarter, index)
        body = _report(rng, cast.late[index % len(cast.late)], period, {}, Programme.CAST)
        out.append({"report_id": str(report_id(cast.key, period, "late", index)), **body})
    return out


def _report(
    rng: random.Random,
    place: Place,
    period: FiscalPeriod,
    villages_here: dict[str, dict[str, Any]],
    programme: Programme,
) -> dict[str, Any]:
    first, last = quarter_start(*period), quarter_end(*period)
    day = first + dt.timedelta(days=rng.randrange((last - first).days + 1))
    if programme is Programme.SUSTAINABLE_VILLAGE:
        sub = rng.choice(sorted(villages_here))
        village_no = villages_here[sub]["village_no"]
    else:
        sub, village_no = rng.choice(place.subdistricts)[0], rng.randint(1, 12)
    dimensions = rng.sample(list(Dimension), rng.choice((1, 1, 1, 2, 2, 3)))
    stages = [s for s in Stage if rng.random() < STAGE_ODDS[s]] or [Stage.TALK]
    people = int(rng.lognormvariate(3.3, 0.7))
    participants = {s.value: rng.randint(0, 6) for s in Sector} | {
        Sector.GOVERNMENT.value: rng.randint(2, 12), Sector.PEOPLE.value: people,
    }  # fmt: skip
    activity = rng.choice(ACTIVITIES[dimensions[0]])
    subdistrict = dict(place.subdistricts)[sub]
    details = (
        f"ทีมอำเภอ{place.name_th}ร่วมกับชาวบ้านหมู่ที่ {village_no} ตำบล{subdistrict} "
        f"{' '.join(STAGE_WORDS[s] for s in stages)} ผู้เข้าร่วม {sum(participants.values())} คน"
    )
    return {
        "programme": programme.value,
        "district_code": place.code,
        "subdistrict_code": sub,
        "village_no": village_no,
        "activity_date": day.isoformat(),
        "dimensions": [d.value for d in dimensions],
        "stages": [s.value for s in stages],
        "participants": participants,
        "households": max(1, people // 3),
        "title": f"{activity} ตำบล{subdistrict}",
        "details": details,
        "reported_by": {"name": _person(rng), "position": rng.choice(REPORTERS)},
    }
