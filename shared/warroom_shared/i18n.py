"""Error messages in Thai and English: the language a caller prefers, and every message of every
service in one catalogue, keyed by error code or pydantic error type, both languages side by side.

Thai is the default: the people the platform serves (district teams, officials, volunteers) read
Thai, a browser always says what its user prefers, and a program that wants English says so with
`Accept-Language: en` (programs should go by `error.code` and the fields' `type`, which never
change with the language). A caller whose only preferences are languages we do not speak gets
English, the language it is more likely to read than Thai.

A `Message` is a `str` holding its English text (for logs and answers that are not negotiated)
that the error handlers render in the caller's language (`in_language`).
"""

from __future__ import annotations

import re
from typing import Any, Literal, NamedTuple

from pydantic_core import PydanticCustomError

Language = Literal["th", "en"]
DEFAULT: Language = "th"
_OR: dict[Language, str] = {"th": " หรือ ", "en": " or "}


class Text(NamedTuple):
    th: str
    en: str | None  # None: pydantic's own English, already clear


CATALOGUE: dict[str, Text] = {
    # --- codes of error answers (`Problem`) ---
    "invalid_fields": Text("ข้อมูลบางช่องไม่ถูกต้อง", "Some fields are invalid."),
    "malformed_json": Text(
        "เนื้อหาคำขอไม่ใช่ JSON ที่ถูกต้อง: {reason}", "The body is not valid JSON: {reason}."
    ),
    "body_too_large": Text("เนื้อหาคำขอยาวเกิน {limit} ไบต์", "The body exceeds {limit} bytes."),
    "unsupported_media_type": Text("ส่งเนื้อหาคำขอเป็น {types}", "Send the body as {types}."),
    "not_found": Text("ไม่พบที่อยู่นี้", "Not Found"),
    "method_not_allowed": Text("ที่อยู่นี้ไม่รับคำขอแบบนี้", "Method Not Allowed"),
    "http_error": Text("คำขอไม่สำเร็จ: {detail}", "{detail}"),
    "internal_error": Text(
        "ระบบขัดข้องที่ฝั่งเรา แจ้งรหัส X-Request-ID นี้เมื่อติดต่อผู้ดูแล",
        "Something went wrong on our side; quote the X-Request-ID.",
    ),
    "database_unavailable": Text(
        "ติดต่อฐานข้อมูลไม่ได้หรือฐานข้อมูลไม่ตอบในเวลาที่กำหนด ลองใหม่อีกครั้งในอีกสักครู่",
        "The database cannot be reached or did not answer in time; try again shortly.",
    ),
    "directory_unavailable": Text(
        "ทะเบียนอำเภอยังไม่พร้อม ลองใหม่อีกครั้งในอีกสักครู่",
        "The district directory is not available yet; try again shortly.",
    ),
    "nats_unavailable": Text("NATS ไม่ตอบ", "NATS did not answer."),
    "too_busy": Text(
        "มีรายงานรอบันทึกมากเกินไป ลองใหม่อีกครั้งในอีกสักครู่",
        "Too many reports are waiting to be stored; try again shortly.",
    ),
    "too_many_exports": Text(
        "เครื่องนี้กำลังส่งออกข้อมูลอยู่ {limit} งาน ลองใหม่อีกครั้งในอีกสักครู่",
        "{limit} exports are running on this server; try again shortly.",
    ),
    "too_many_lines": Text(
        "ส่งได้ไม่เกิน {max_lines} บรรทัดต่อคำขอ", "Send at most {max_lines} lines a request."
    ),
    "rate_limited": Text("ส่งคำขอถี่เกินไป: ได้ไม่เกิน {limit}", "Too many requests: at most {limit}."),
    "unauthenticated": Text(
        "ส่งโทเค็นมาด้วย: Authorization: Bearer <token>",
        "Send a bearer token: Authorization: Bearer <token>.",
    ),
    "invalid_token": Text("โทเค็นใช้ไม่ได้: {reason}", "The token is not valid: {reason}."),
    "forbidden": Text("โทเค็นของ {role} ทำสิ่งนี้ไม่ได้", "A {role} token may not do this."),
    "outside_area": Text("{place} อยู่นอกพื้นที่ของคุณ", "{place} lies outside your area."),
    "place_district": Text("อำเภอ {code}", "The district {code}"),
    "place_province": Text("จังหวัด {code}", "The province {code}"),
    "place_national": Text("ทั้งประเทศ", "The nation"),
    "signed_out": Text("เข้าสู่ระบบก่อน", "Sign in first."),
    "csrf": Text(
        "แบบฟอร์มนี้หมดอายุหรือไม่ได้มาจากเว็บไซต์นี้ โหลดหน้าใหม่แล้วลองอีกครั้ง",
        "The form is out of date or not ours: reload the page and try again.",
    ),
    "live_area": Text(
        "scope={scope} ไม่รับรหัส {code}", "scope={scope} does not take the code {code}."
    ),
    "precondition_required": Text(
        "ส่ง If-Match พร้อม ETag ที่ได้มาเมื่ออ่านข้อมูลนี้",
        "Send If-Match with the ETag you read.",
    ),
    "stale_version": Text(
        "ข้อมูลถูกแก้ไขหลังจากที่คุณอ่าน (ตอนนี้เป็นฉบับที่ {version}) อ่านใหม่แล้วส่งอีกครั้ง",
        "It changed since you read it (now version {version}); read it again.",
    ),
    "unknown_version": Text(
        "If-Match ไม่ได้ระบุฉบับของข้อมูลนี้: ส่ง ETag ตามที่อ่านได้",
        "If-Match does not name a version: send the ETag as you read it.",
    ),
    "report_not_found": Text("ไม่พบรายงาน {report_id}", "No report {report_id}."),
    "report_retracted": Text(
        "รายงานนี้ถูกถอนแล้ว แก้ไขไม่ได้", "The report was retracted; it cannot change."
    ),
    "report_id_conflict": Text(
        "รายงาน {report_id} ถูกส่งไว้แล้วด้วยเนื้อหาที่ต่างกัน",
        "Report {report_id} was already submitted with different content.",
    ),
    "unstorable": Text(
        "รายงานมีค่าที่บันทึกลงฐานข้อมูลไม่ได้", "The report holds a value that cannot be stored."
    ),
    "unstorable_value": Text("บันทึกลงฐานข้อมูลไม่ได้: {reason}", "cannot be stored: {reason}"),
    "team_exists": Text(
        "อำเภอ {district_code} มีทีมของปีงบประมาณ {fiscal_year} อยู่แล้ว",
        "District {district_code} already has a team for fiscal year {fiscal_year}.",
    ),
    "team_not_found": Text("ไม่พบทีม {team_id}", "No team {team_id}."),
    "member_not_found": Text("ไม่มีผู้ใดอยู่ในบทบาท {role}", "Nobody holds the role {role}."),
    "province_not_found": Text("ไม่พบจังหวัด {code}", "No province {code}."),
    "district_not_found": Text("ไม่พบอำเภอ {code}", "No district {code}."),
    "subdistrict_not_in_district": Text(
        "ตำบล {subdistrict} ไม่อยู่ในอำเภอ {district}",
        "Subdistrict {subdistrict} is not in district {district}.",
    ),
    "village_not_designated": Text(
        "ตำบล {subdistrict} ไม่มีหมู่บ้านที่กำหนดไว้ในปีงบประมาณ {fiscal_year}",
        "Subdistrict {subdistrict} has no designated village in {fiscal_year}.",
    ),
    "outside_programme": Text(
        "{name_th} ({code}) อยู่นอกโครงการ", "{name_en} ({code}) is outside the programme."
    ),
    "outside_programme_khet": Text(
        "{name_th} ({code}) อยู่นอกโครงการ: เขตของกรุงเทพมหานครไม่มีนายอำเภอ "
        "จึงเข้าร่วมโครงการเมื่อผู้ดูแลระบบรวมไว้เท่านั้น",
        "{name_en} ({code}) is outside the programme: Bangkok's khet have no district chief "
        "and take part only when an operator includes them.",
    ),
    "not_designated": Text(
        "หมู่ที่ {village} ตำบล {subdistrict} ไม่ใช่หมู่บ้านยั่งยืนที่กำหนดไว้ของปีงบประมาณ {fiscal_year}",
        "Village {village} of subdistrict {subdistrict} is not a designated Sustainable Village "
        "of fiscal year {fiscal_year}",
    ),
    # --- field messages of our own rules ---
    "deadline_out_of_range": Text(
        "วันครบกำหนดต้องอยู่ระหว่าง {earliest} ถึง {latest}",
        "due_on must fall between {earliest} and {latest}",
    ),
    "stage_with_dimension": Text(
        "ใช้ stage คู่กับ dimension ไม่ได้: ขั้นการมีส่วนร่วมนับแยกต่างหาก",
        "stage and dimension cannot be combined: a stage is counted alone",
    ),
    "national_no_code": Text("ยอดรวมทั้งประเทศไม่ต้องระบุ code", "national totals take no code"),
    "scope_needs_code": Text(
        "scope={scope} ต้องระบุ code {digits} หลัก",
        "scope={scope} needs a {digits}-digit {scope} code",
    ),
    "code_needs_scope": Text(
        "ระบุ code ต้องระบุ scope ด้วย: scope=province หรือ scope=district",
        "a code needs its scope: scope=province or scope=district",
    ),
    "province_or_district": Text(
        "ระบุจังหวัดหรืออำเภออย่างใดอย่างหนึ่ง ไม่ใช่ทั้งสอง", "name a province or a district, not both"
    ),
    "by_province_scope": Text(
        "by=province ใช้ได้กับ scope=national เท่านั้น", "by=province needs scope=national"
    ),
    "by_district_scope": Text(
        "by=district ใช้ได้กับ scope=national หรือ scope=province เท่านั้น",
        "by=district needs scope=national or scope=province",
    ),
    "by_takes_no_filter": Text(
        "by={by} ใช้คู่กับตัวกรอง dimension หรือ stage ไม่ได้",
        "by={by} takes neither a dimension nor a stage filter",
    ),
    "by_month_needs_year": Text("by=month ต้องระบุ fiscal_year", "by=month needs a fiscal_year"),
    "unknown_code": Text("ไม่พบอำเภอ {code}", "unknown district {code}"),
    "unknown_province": Text("ไม่พบจังหวัด {code}", "unknown province {code}"),
    "unknown_subdistrict": Text("ไม่พบตำบล {code}", "unknown subdistrict {code}"),
    "not_a_district": Text(
        "อำเภอ {district} ไม่อยู่ในจังหวัด {province}",
        "{district} is not a district of province {province}",
    ),
    "not_in_province": Text(
        "ตำบล {subdistrict} ไม่อยู่ในจังหวัด {province}",
        "{subdistrict} is not in province {province}",
    ),
    "from_after_to": Text(
        "วันเริ่ม from ({since}) อยู่หลังวันสิ้นสุด to ({until})", "from ({since}) is after to ({until})"
    ),
    "not_a_subdistrict": Text(
        "ตำบล {subdistrict} ไม่อยู่ในอำเภอ {district}",
        "{subdistrict} is not a subdistrict of {district}",
    ),
    "subdistrict_of": Text(
        "ต้องเป็นตำบลในอำเภอ {district}", "must be a subdistrict of district {district}"
    ),
    "village_required": Text(
        "รายงานหมู่บ้านยั่งยืนระบุหมู่บ้านที่กำหนดไว้: ระบุตำบล (subdistrict_code) และหมู่ที่ (village_no)",
        "a Sustainable Village report names its designated village: give subdistrict_code "
        "and village_no",
    ),
    "malformed_line": Text("ไม่ใช่ JSON ที่ถูกต้อง: {reason}", "not valid JSON: {reason}"),
    "outside_your_area": Text("อยู่นอกพื้นที่ของคุณ", "outside your area"),
    "stages_empty": Text(
        "ระบุขั้นการมีส่วนร่วมที่กิจกรรมครอบคลุมอย่างน้อยหนึ่งขั้น: {stages}",
        "Name at least one participation stage the activity covered: {stages}",
    ),
    "not_unique": Text("แต่ละค่าระบุได้ครั้งเดียว", "each value may appear once"),
    "uuid_nil": Text("ต้องไม่เป็น UUID ศูนย์ทั้งหมด (nil UUID)", "Input should not be the nil UUID"),
    "date_format": Text(
        "ต้องเป็นวันที่ในรูปแบบ YYYY-MM-DD ปี ค.ศ. เลขอารบิก เช่น 2025-02-14",
        "Input should be a date written YYYY-MM-DD",
    ),
    "date_in_future": Text(
        "วันที่จัดกิจกรรมอยู่ในอนาคต (เวลาประเทศไทย)",
        "the activity date is in the future (Asia/Bangkok)",
    ),
    "date_too_early": Text(
        "วันที่จัดกิจกรรมอยู่ก่อนปีงบประมาณ {fiscal_year}",
        "the activity date is before fiscal year {fiscal_year}",
    ),
    "buddhist_era": Text(
        "ใช้ปี ค.ศ. ({suggested}) ไม่ใช่ปี พ.ศ.",
        "use the Christian-era year ({suggested}), not the Buddhist-era year",
    ),
    "thai_digit_date": Text(
        "วันที่เขียนด้วยเลขไทย: เขียนด้วยเลขอารบิกและปี ค.ศ. เช่น {suggested}",
        "the date is written with Thai digits: write ASCII digits and the Christian-era year, "
        "as {suggested}",
    ),
    "thai_digit_number": Text(
        "ตัวเลขเขียนด้วยเลขไทยในข้อความ: ส่งเป็นตัวเลข JSON ด้วยเลขอารบิก เช่น {suggested}",
        "the number is a string of Thai digits: send a JSON number in ASCII digits, as {suggested}",
    ),
    "text_nul": Text("ต้องไม่มีอักขระ U+0000 (NUL)", "must not contain U+0000 (NUL)"),
    "text_surrogate": Text(
        "ต้องไม่มี surrogate เดี่ยว ({character}): ไม่ใช่ข้อความ Unicode",
        "must not contain a lone surrogate ({character}): it is not Unicode text",
    ),
    "text_not_utf8": Text("ต้องเป็นข้อความ UTF-8", "must be UTF-8 text"),
    "duplicate_key": Text(
        'คีย์ "{key}" ซ้ำกันในวัตถุเดียว', 'the key "{key}" appears twice in one object'
    ),
    "not_utf8": Text("ไม่ใช่ UTF-8", "it is not UTF-8"),
    "too_many_digits": Text("ตัวเลขมีหลักมากเกินไป", "a number has too many digits"),
    "nested_too_deeply": Text("ซ้อนกันลึกเกินไป", "it is nested too deeply"),
    # --- pydantic's error types: its English, our Thai (ctx values by name) ---
    "missing": Text("ต้องระบุช่องนี้", None),
    "extra_forbidden": Text("ไม่รู้จักช่องนี้ ลบออก", None),
    "json_invalid": Text("ไม่ใช่ JSON ที่ถูกต้อง: {error}", None),
    "json_type": Text("ต้องเป็นข้อความ JSON", None),
    "model_type": Text("ต้องเป็นวัตถุ JSON ({{...}})", None),
    "model_attributes_type": Text("ต้องเป็นวัตถุ JSON ({{...}})", None),
    "dict_type": Text("ต้องเป็นวัตถุ JSON ({{...}})", None),
    "list_type": Text("ต้องเป็นรายการ JSON ([...])", None),
    "string_type": Text("ต้องเป็นข้อความ", None),
    "string_too_short": Text("ต้องยาวอย่างน้อย {min_length} ตัวอักษร", None),
    "string_too_long": Text("ยาวได้ไม่เกิน {max_length} ตัวอักษร", None),
    "string_pattern_mismatch": Text("รูปแบบไม่ถูกต้อง: ต้องตรงกับ {pattern}", None),
    "int_type": Text("ต้องเป็นจำนวนเต็ม (ตัวเลข JSON ไม่ใช่ข้อความ)", None),
    "int_parsing": Text("ต้องเป็นจำนวนเต็ม", None),
    "int_from_float": Text("ต้องเป็นจำนวนเต็ม ไม่มีทศนิยม", None),
    "float_type": Text("ต้องเป็นตัวเลข", None),
    "float_parsing": Text("ต้องเป็นตัวเลข", None),
    "bool_type": Text("ต้องเป็น true หรือ false", None),
    "bool_parsing": Text("ต้องเป็น true หรือ false", None),
    "greater_than_equal": Text("ต้องไม่น้อยกว่า {ge}", None),
    "greater_than": Text("ต้องมากกว่า {gt}", None),
    "less_than_equal": Text("ต้องไม่เกิน {le}", None),
    "less_than": Text("ต้องน้อยกว่า {lt}", None),
    "enum": Text("ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: {expected}", None),
    "literal_error": Text("ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: {expected}", None),
    "too_short": Text("ต้องมีอย่างน้อย {min_length} รายการ", None),
    "too_long": Text("มีได้ไม่เกิน {max_length} รายการ", None),
    "list_too_short": Text("ต้องมีอย่างน้อย {min_length} รายการ", None),
    "uuid_type": Text("ต้องเป็น UUID ในรูปข้อความ", None),
    "uuid_parsing": Text("ต้องเป็น UUID ที่ถูกต้อง: {error}", None),
    "uuid_version": Text("ต้องเป็น UUID รุ่น {expected_version}", None),
    "date_type": Text("ต้องเป็นวันที่ในรูปแบบ YYYY-MM-DD", None),
    "date_parsing": Text("ไม่ใช่วันที่ที่มีอยู่จริง: {error}", None),
    "date_from_datetime_parsing": Text("ไม่ใช่วันที่ที่มีอยู่จริง: {error}", None),
    "datetime_parsing": Text("ต้องเป็นวันเวลาที่ถูกต้อง: {error}", None),
    "datetime_type": Text("ต้องเป็นวันเวลาในรูปแบบ ISO 8601", None),
    "frozen_instance": Text("แก้ไขไม่ได้", None),
    "value_error": Text("ค่าไม่ถูกต้อง: {error}", None),
}


class Message(str):
    """A message whose `str` is its English text, `in_language` its text in either language."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> Message:
        return cls._made(_render(key, "en", params), key, params)

    @classmethod
    def _made(cls, english: str, key: str, params: dict[str, Any]) -> Message:
        made = super().__new__(cls, english)
        made.key, made.params = key, params
        return made

    @classmethod
    def of_error(cls, error: dict[str, Any]) -> Message:
        """A pydantic error's message: pydantic's English (for our own error types, the
        catalogue's, which `custom_error` gave it), Thai by its type and context."""
        ctx = dict(error.get("ctx") or {})
        return cls._made(error["msg"], ctx.pop("message_key", error["type"]), ctx)

    def in_language(self, language: Language) -> str:
        if language == "en":
            return str(self)
        return _render(self.key, language, self.params, fallback=str(self))


def localized(value: Any, language: Language) -> Any:
    """`value` with every `Message` in it (in its dicts and lists too) said in `language`."""
    if isinstance(value, Message):
        return value.in_language(language)
    if isinstance(value, dict):
        return {k: localized(v, language) for k, v in value.items()}
    if isinstance(value, list):
        return [localized(v, language) for v in value]
    return value


def custom_error(type_: str, key: str | None = None, **params: Any) -> PydanticCustomError:
    """A pydantic error of our own `type_`, worded by the catalogue's `key` (default: the
    type), so that it is said in the caller's language like pydantic's own errors."""
    key = key or type_
    english = CATALOGUE[key].en
    assert english is not None, key
    ctx = params if key == type_ else {**params, "message_key": key}
    return PydanticCustomError(type_, english.replace("{{", "{").replace("}}", "}"), ctx)


def _render(
    key: str, language: Language, params: dict[str, Any], fallback: str | None = None
) -> str:
    text = CATALOGUE.get(key)
    template = None if text is None else getattr(text, language)
    if template is None:
        if fallback is None:
            raise KeyError(f"no {language} text for {key!r}")
        return fallback
    values = {name: _value(v, language) for name, v in params.items()}
    try:
        return str(template.format_map(values))
    except (KeyError, IndexError, ValueError):
        if fallback is None:
            raise
        return fallback


def _value(value: Any, language: Language) -> Any:
    if isinstance(value, Message):
        return value.in_language(language)
    if isinstance(value, list | tuple):
        return _OR[language].join(str(_value(v, language)) for v in value)
    if isinstance(value, str) and language == "th":  # pydantic's "'a', 'b' or 'c'"
        return value.replace("' or '", "' หรือ '")
    return value


# --- Accept-Language (RFC 9110 §12.5.4): ranges with q-values, most preferred first ---

_RANGE = re.compile(
    r"\s*(\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*)\s*(?:;\s*q\s*=\s*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?))?\s*",
    re.IGNORECASE,
)


def preferred_language(header: str | None) -> Language:
    """The language to answer in: the one of Thai and English the caller ranks higher (q-value,
    then order); Thai when it states no preference (no header, `*` alone, nothing readable);
    English when it accepts neither (only other languages, or both with q=0)."""
    ranges: list[tuple[str, str | None]] = []
    for part in (header or "").split(","):
        if found := _RANGE.fullmatch(part):
            ranges.append((found.group(1), found.group(2)))
    if not ranges:
        return DEFAULT
    ranked: list[tuple[float, int, Language]] = []
    for language in ("th", "en"):
        ranked.append((*_weight(ranges, language), language))
    best = max(ranked, key=lambda r: (r[0], -r[1], r[2] == DEFAULT))
    return best[2] if best[0] > 0 else "en"


def _weight(ranges: list[tuple[str, str | None]], language: str) -> tuple[float, int]:
    """The q-value a language gets (its own ranges first, then `*`) and that range's position."""
    own = [
        (float(q or 1), i)
        for i, (tag, q) in enumerate(ranges)
        if tag.lower() == language or tag.lower().startswith(language + "-")
    ]
    if own:
        return max(own, key=lambda w: (w[0], -w[1]))
    wildcard = [(float(q or 1), i) for i, (tag, q) in enumerate(ranges) if tag == "*"]
    return wildcard[0] if wildcard else (0.0, len(ranges))
