"""Every label of the website once, Thai first, with its English; Buddhist-era dates and
numbers as Thai readers write them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

Lang = Literal["th", "en"]

MONTHS = {
    "th": ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
           "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}  # fmt: skip

LABELS: dict[str, tuple[str, str]] = {
    "service": ("ห้องปฏิบัติการ War Room โครงการ CAST", "CAST War Room"),
    "programme_name": ("อำเภอบำบัดทุกข์ บำรุงสุข แบบบูรณาการอย่างยั่งยืน",
                       "Change Agent for Strategic Transformation"),
    "skip": ("ข้ามไปยังเนื้อหา", "Skip to main content"),
    "nation": ("ภาพรวมประเทศ", "Nation"),
    "thailand": ("ประเทศไทย", "Thailand"),
    "province": ("จังหวัด", "Province"),
    "district": ("อำเภอ", "District"),
    "period": ("ปีงบประมาณ {fy} ไตรมาส {q}", "Fiscal year {fy}, quarter {q}"),
    "fiscal_year": ("ปีงบประมาณ (พ.ศ.)", "Fiscal year (Buddhist Era)"),
    "quarter": ("ไตรมาส", "Quarter"),
    "quarter_hint": ("ไตรมาส 1 คือ ต.ค.–ธ.ค.", "Quarter 1 is October to December"),
    "show": ("แสดงผล", "Show"),
    "headline": ("รายงานผลการดำเนินงานในไตรมาสนี้", "Reports this quarter"),
    "reports": ("รายงาน", "Reports"),
    "participants": ("ผู้เข้าร่วม", "Participants"),
    "households": ("ครัวเรือน", "Households"),
    "live": ("อัปเดตสด", "Live"),
    "provisional": ("ตัวเลขเบื้องต้น: กำหนดส่งรายงาน {due} (อีก {days} วัน)",
                    "Provisional: reports are due {due} ({days} days left)"),
    "final": ("ครบกำหนดส่งรายงานแล้วเมื่อ {due}", "The reporting deadline passed on {due}"),
    "completeness": ("ความครบถ้วนของการรายงาน", "Reporting completeness"),
    "districts_reported": ("อำเภอที่รายงานแล้ว", "Districts reported"),
    "of_districts": ("จาก {n} อำเภอในโครงการ", "of {n} districts in the programme"),
    "on_time": ("ตรงเวลา", "On time"),
    "late": ("ล่าช้า", "Late"),
    "not_yet": ("ยังไม่รายงาน", "Not yet reported"),
    "due": ("กำหนดส่ง", "Due"),
    "days_left": ("เหลืออีก (วัน)", "Days left"),
    "reporting_rate": ("อัตราการรายงาน", "Reporting rate"),
    "on_time_rate": ("อัตราการรายงานตรงเวลา", "On-time rate"),
    "status": ("สถานะ", "Status"),
    "sectors": ("ผู้เข้าร่วมจำแนกตามภาคี 7 ภาคี", "Participants by the 7 sectors"),
    "sector": ("ภาคี", "Sector"),
    "funnel": ("ขั้นตอนการมีส่วนร่วม", "Participation stages"),
    "stage": ("ขั้นตอน", "Stage"),
    "dimensions": ("รายงานจำแนกตามมิติการพัฒนา", "Reports by development dimension"),
    "dimension": ("มิติ", "Dimension"),
    "programmes": ("รายงานจำแนกตามโครงการ", "Reports by programme"),
    "programme": ("โครงการ", "Programme"),
    "trend": ("แนวโน้มรายเดือน", "Month by month"),
    "month": ("เดือน", "Month"),
    "map_provinces": ("แผนที่รายงานรายจังหวัด", "Reports by province"),
    "map_districts": ("แผนที่รายงานรายอำเภอ", "Reports by district"),
    "measure": ("แสดงค่า", "Show"),
    "measure_reports": ("จำนวนรายงาน", "Reports"),
    "measure_per_district": ("รายงานต่ออำเภอในโครงการ", "Reports per district in the programme"),
    "per_district": ("ต่ออำเภอ", "Per district"),
    "place": ("พื้นที่", "Area"),
    "table": ("ดูเป็นตาราง", "Show as a table"),
    "attribution": ("ขอบเขตการปกครอง: OCHA COD-AB Thailand / กรมแผนที่ทหาร (CC BY-IGO)",
                    "Boundaries: OCHA COD-AB Thailand / Royal Thai Survey Department (CC BY-IGO)"),
    "geography_credit": ("ข้อมูลรายงานจากระบบ CAST War Room รหัสพื้นที่ตามกรมการปกครอง",
                         "Reports from the CAST War Room platform; area codes of the DOPA"),
    "unavailable": ("ขณะนี้ไม่สามารถดึงข้อมูลจากบริการ {service} ได้ โปรดลองใหม่อีกครั้งในอีกสักครู่",
                    "The {service} service cannot be reached just now. Try again in a minute."),
    "no_data": ("ยังไม่มีรายงานในช่วงเวลานี้", "No reports in this period yet"),
    "signin": ("เข้าสู่ระบบ", "Sign in"),
    "signout": ("ออกจากระบบ", "Sign out"),
    "signed_in_as": ("เข้าสู่ระบบในฐานะ", "Signed in as"),
    "dev_signin": ("เข้าสู่ระบบสำหรับการพัฒนา", "Development sign-in"),
    "dev_signin_hint": ("ใช้ได้เฉพาะบนเครื่องที่ติดตั้งแบบฝังตัว (ไม่ใช่ระบบจริง): ระบบจะออกโทเค็นสำหรับการพัฒนาให้",
                        "Only on the embedded default, never in production: this mints a "
                        "development token"),
    "role": ("บทบาท", "Role"),
    "area": ("รหัสพื้นที่", "Area code"),
    "area_hint": ("จังหวัด 2 หลัก (เช่น 12) หรืออำเภอ 4 หลัก (เช่น 1201) สำหรับเจ้าหน้าที่ เว้นว่างสำหรับบทบาทอื่น",
                  "A province (2 digits, e.g. 12) or district (4 digits, e.g. 1201) for officers; "
                  "empty for the other roles"),
    "error_summary": ("มีข้อผิดพลาด", "There is a problem"),
    "no_dev_signin": ("เข้าสู่ระบบผ่านผู้ให้บริการยืนยันตัวตนของหน่วยงาน",
                      "Sign in through your organisation's identity provider"),
    "no_dev_signin_hint": ("การเข้าสู่ระบบสำหรับการพัฒนาปิดอยู่ในระบบนี้",
                           "The development sign-in is off on this installation."),
    "forbidden": ("คุณไม่มีสิทธิ์ดูข้อมูลของพื้นที่นี้", "You may not see this area's figures"),
    "forbidden_hint": ("บัญชีของคุณดูได้เฉพาะพื้นที่ที่รับผิดชอบ", "Your account sees its own area only."),
    "not_found": ("ไม่พบหน้านี้", "Page not found"),
    "your_area": ("ไปยังพื้นที่ของคุณ", "Go to your area"),
    "role_admin": ("ผู้ดูแลระบบ", "Administrator"),
    "role_national_viewer": ("ผู้ดูข้อมูลระดับประเทศ", "National viewer"),
    "role_province_officer": ("เจ้าหน้าที่ระดับจังหวัด", "Province officer"),
    "role_district_officer": ("เจ้าหน้าที่ระดับอำเภอ", "District officer"),
    "role_monitor": ("ผู้ติดตามระบบ", "Monitor"),
    "language": ("English", "ภาษาไทย"),
    "data_json": ("ข้อมูล JSON ของหน้านี้", "This page's data as JSON"),
    "completeness_lead": ("อำเภอในโครงการที่รายงานแล้วและที่ยังไม่รายงาน",
                          "The programme's districts that have reported, and those that have not"),
    "filters": ("กรองรายการ", "Filter the list"),
    "all_provinces": ("ทุกจังหวัด", "All provinces"),
    "all_statuses": ("ทุกสถานะ", "All statuses"),
    "clear_filters": ("ล้างตัวกรอง", "Clear the filters"),
    "download_csv": ("ดาวน์โหลด CSV", "Download CSV"),
    "code": ("รหัส", "Code"),
    "districts_caption": ("อำเภอในโครงการ {n} อำเภอ เรียงตาม{by}",
                          "{n} districts of the programme, sorted by {by}"),
    "sorted_district": ("ชื่ออำเภอ", "district"),
    "sorted_province": ("ชื่อจังหวัด", "province"),
    "sorted_status": ("สถานะ", "status"),
    "descending_order": (" (จากมากไปน้อย)", " (descending)"),
    "no_rows": ("ไม่มีอำเภอที่ตรงกับตัวกรองนี้", "No district matches these filters"),
    "shown": ("ที่แสดง", "Shown"),
    "see_districts": ("ดูรายชื่ออำเภอที่ยังไม่รายงาน", "See the districts that have not reported"),
    "service_registry": ("ทะเบียน", "registry"),
    "service_reporting": ("รายงาน", "reporting"),
    "service_aggregator": ("สรุปผล", "totals"),
    # the ranking page
    "main_nav": ("เมนูหลัก", "Main"),
    "nav_your_area": ("พื้นที่ของคุณ", "Your area"),
    "ranking": ("การจัดอันดับ", "Ranking"),
    "ranking_title_province": ("การจัดอันดับจังหวัด", "Provinces ranked"),
    "ranking_title_district": ("การจัดอันดับอำเภอ", "Districts ranked"),
    "ranking_of": ("ใน{place}", " in {place}"),
    "ranking_lead_province": (
        "จังหวัดเรียงตามจำนวนรายงานต่ออำเภอในโครงการ ไม่ใช่จำนวนรายงานรวม",
        "Provinces by reports per district of the programme, not by their total"),
    "ranking_lead_district": ("อำเภอเรียงตามจำนวนรายงานต่อตำบล ไม่ใช่จำนวนรายงานรวม",
                              "Districts by reports per subdistrict, not by their total"),
    "ranking_level": ("จัดอันดับระดับ", "Rank"),
    "level_province": ("จังหวัด", "Provinces"),
    "level_district": ("อำเภอ", "Districts"),
    "how_ranked": ("วิธีจัดอันดับ", "How this is ranked"),
    "method_province": (
        "แต่ละจังหวัดวัดด้วยจำนวนรายงานของไตรมาสหารด้วยจำนวนอำเภอในโครงการของจังหวัด "
        "เพราะจังหวัดที่มีอำเภอมากย่อมมีรายงานมากกว่า "
        "จำนวนรายงานรวมจึงบอกเพียงว่าจังหวัดใหญ่แค่ไหน "
        "สัดส่วนอำเภอที่รายงานแล้วและที่รายงานตรงเวลาแสดงไว้ประกอบ ไม่ใช้ในการจัดอันดับ",
        "Each province is measured by the quarter's reports divided by its districts in the "
        "programme: a province with more districts sends more reports, so its total would "
        "only say how big it is. The shares of its districts that reported, and on time, "
        "are shown beside it but do not change its rank."),
    "method_district": (
        "แต่ละอำเภอวัดด้วยจำนวนรายงานของไตรมาสหารด้วยจำนวนตำบลของอำเภอ "
        "เพราะงานของทีมอำเภอกระจายไปทุกตำบล "
        "(โครงการหมู่บ้านยั่งยืนกำหนดหมู่บ้านตำบลละหนึ่งแห่ง) "
        "อำเภอที่มีตำบลมากจึงควรมีรายงานมากกว่า",
        "Each district is measured by the quarter's reports divided by its subdistricts "
        "(tambon): a district team's work reaches every subdistrict (the Sustainable Village "
        "programme designates a village in each), so a district with more subdistricts is "
        "expected to send more reports."),
    "method_ties": (
        "ค่าที่เท่ากันเมื่อปัดเป็นทศนิยมสองตำแหน่งได้อันดับเดียวกัน และอันดับถัดไปข้ามไป (1, 2, 2, 4)",
        "Rates equal to two decimal places share a rank, and the next rank is skipped "
        "(1, 2, 2, 4)."),
    "method_guard": (
        "พื้นที่ที่มีรายงานน้อยกว่า {n} รายงานไม่จัดอันดับ "
        "เพราะค่าจากรายงานเพียงไม่กี่ฉบับแกว่งมากเกินไป แต่แสดงแยกไว้ด้านล่างพร้อมเหตุผล",
        "An area with fewer than {n} reports is not ranked, since a rate from a handful of "
        "reports swings too much; it is listed apart below, with the reason."),
    "ranking_provisional": ("อันดับเบื้องต้น อาจเปลี่ยนได้จนกว่าจะครบกำหนดส่งรายงาน",
                            "A provisional ranking, which may change until the deadline."),
    "rank": ("อันดับ", "Rank"),
    "rate_subdistrict": ("รายงานต่อตำบล", "Reports per subdistrict"),
    "districts_in_scope": ("อำเภอในโครงการ", "Districts in the programme"),
    "reported_share": ("รายงานแล้ว", "Reported"),
    "on_time_share": ("รายงานตรงเวลา", "On time"),
    "subdistricts": ("ตำบล", "Subdistricts"),
    "ranked_caption_province": ("จังหวัดที่จัดอันดับได้ {n} จังหวัด เรียงตามรายงานต่ออำเภอในโครงการจากมากไปน้อย",
                                "{n} provinces ranked by reports per district of the programme, "
                                "highest first"),
    "ranked_caption_district": ("อำเภอที่จัดอันดับได้ {n} อำเภอ เรียงตามรายงานต่อตำบลจากมากไปน้อย",
                                "{n} districts ranked by reports per subdistrict, highest first"),
    "nothing_ranked": ("ยังไม่มีพื้นที่ที่มีรายงานถึง {n} รายงานให้จัดอันดับ",
                       "No area has the {n} reports it takes to be ranked yet"),
    "too_few": ("รายงานน้อยเกินกว่าจะจัดอันดับ", "Too few to rank"),
    "too_few_hint": ("พื้นที่เหล่านี้ไม่จัดอันดับในไตรมาสนี้ เรียงตามจำนวนรายงาน",
                     "These areas are not ranked this quarter; by their reports, most first."),
    "too_few_show": ("แสดง {n} พื้นที่", "Show the {n} areas"),
    "reason": ("เหตุผล", "Reason"),
    "reason_few_reports": ("รายงานน้อยกว่า {n} รายงาน", "Fewer than {n} reports"),
    "reason_nothing_in_scope": ("ไม่มีพื้นที่ย่อยในโครงการให้หาร", "Nothing in the programme to divide by"),
    "not_for_your_role": ("บทบาทของบัญชีนี้ไม่มีสิทธิ์ดูข้อมูลส่วนนี้",
                          "This section is not shown to your role"),
    "team": ("ทีมอำเภอ 10 บทบาท", "The district team's 10 roles"),
    "roles_filled_of": ("จาก {n} บทบาทมีผู้ดำรงตำแหน่งแล้ว", "of {n} roles filled"),
    "team_caption": ("ทีมอำเภอ ปีงบประมาณ {fy}: มีผู้ดำรงตำแหน่ง {filled} จาก {n} บทบาท",
                     "The district team, fiscal year {fy}: {filled} of {n} roles filled"),
    "team_not_registered": ("อำเภอยังไม่ได้ลงทะเบียนทีมของปีงบประมาณ {fy}",
                            "The district has not registered its team for fiscal year {fy} yet"),
    "team_role": ("บทบาท", "Role"),
    "team_holder": ("ผู้ดำรงตำแหน่ง", "Held by"),
    "role_filled": ("มีแล้ว", "Filled"),
    "role_missing": ("ยังขาด", "Missing"),
    "names_hidden": ("ชื่อและช่องทางติดต่อของสมาชิกทีมแสดงเฉพาะผู้ดูแลระบบและเจ้าหน้าที่ของอำเภอหรือจังหวัดนี้",
                     "Members' names and contacts are shown only to administrators and to this "
                     "district's or province's officers."),
    "villages": ("หมู่บ้านยั่งยืนที่อำเภอกำหนด", "Designated Sustainable Villages"),
    "villages_caption": ("หมู่บ้านยั่งยืน ปีงบประมาณ {fy} จำนวน {n} หมู่บ้าน",
                         "{n} Sustainable Villages designated for fiscal year {fy}"),
    "no_villages": ("ยังไม่ได้กำหนดหมู่บ้านยั่งยืนของปีงบประมาณ {fy}",
                    "No Sustainable Village designated for fiscal year {fy} yet"),
    "village": ("หมู่บ้าน", "Village"),
    "village_no": ("หมู่ที่ {no}", "(Moo {no})"),
    "subdistrict": ("ตำบล", "Subdistrict"),
    "latest_reports": ("รายงานล่าสุดของไตรมาสนี้", "Latest reports this quarter"),
    "latest_reports_caption": ("รายงานล่าสุด {n} รายการ เรียงตามวันที่ทำกิจกรรม ล่าสุดก่อน",
                               "The {n} latest reports, newest activity date first"),
    "latest_reports_hint": ("แสดง {n} รายงานล่าสุด เรียงตามวันที่ทำกิจกรรม (พ.ศ.)",
                            "The {n} latest reports by activity date (Buddhist Era)"),
    "latest_of_total": ("จากทั้งหมด {total} รายงานในไตรมาสนี้", "of {total} this quarter"),
    "activity_date": ("วันที่ทำกิจกรรม", "Activity date"),
    "report_place": ("เรื่องและพื้นที่", "Report and place"),
    "subdistrict_of": ("ต.{name}", "{name}"),
    "idp_signin": ("เข้าสู่ระบบด้วยบัญชีของหน่วยงาน", "Sign in with your organisation's account"),
    "idp_signin_hint": ("ระบบจะพาไปยังหน้าเข้าสู่ระบบของผู้ให้บริการยืนยันตัวตน แล้วกลับมาที่พื้นที่ของคุณ",
                        "You go to the identity provider's sign-in page, then back to your area."),
    "signin_failed": ("เข้าสู่ระบบไม่สำเร็จ", "Signing in did not work"),
    "signin_failed_access_denied": ("ผู้ให้บริการยืนยันตัวตนไม่อนุญาตให้เข้าสู่ระบบ หรือมีการยกเลิกการเข้าสู่ระบบ",
                                    "The identity provider refused, or the sign-in was cancelled."),
    "signin_failed_mismatching_state": ("คำขอเข้าสู่ระบบนี้หมดอายุหรือไม่ได้เริ่มจากเบราว์เซอร์นี้ โปรดเริ่มใหม่",
                                        "This sign-in expired or was not started in this browser. "
                                        "Start again."),
    "signin_failed_refused": ("ผู้ให้บริการยืนยันตัวตนไม่ยอมรับคำขอเข้าสู่ระบบนี้ โปรดเริ่มใหม่",
                              "The identity provider did not accept this sign-in. Start again."),
    "signin_failed_no_role": ("บัญชีของคุณยังไม่มีบทบาทในระบบ War Room โปรดติดต่อผู้ดูแลระบบ",
                              "Your account has no War Room role yet. Ask your administrator."),
    "signin_failed_unreachable": ("ขณะนี้ติดต่อผู้ให้บริการยืนยันตัวตนไม่ได้ โปรดลองใหม่อีกครั้งในอีกสักครู่",
                                  "The identity provider cannot be reached just now. Try again in "
                                  "a minute."),
    "signin_failed_not_configured": ("ระบบนี้ไม่ได้ตั้งค่าผู้ให้บริการยืนยันตัวตน",
                                     "No identity provider is set up on this installation."),
    "signin_failed_too_large": ("ข้อมูลบัญชีจากผู้ให้บริการยืนยันตัวตนใหญ่เกินกว่าจะเก็บในคุกกี้ได้ โปรดแจ้งผู้ดูแลระบบ",
                                "The identity provider's tokens are too large for this website's "
                                "session. Ask your administrator."),
    "signin_again": ("เข้าสู่ระบบอีกครั้ง", "Sign in again"),
}  # fmt: skip


def translator(lang: Lang) -> Callable[..., str]:
    index = 0 if lang == "th" else 1

    def t(key: str, **values: object) -> str:
        text = LABELS[key][index]
        return text.format(**values) if values else text

    return t


def number(value: float | int | None) -> str:
    """1109193 -> 1,109,193 (Thai writes Arabic digits, grouped by thousands); fractions to one
    decimal; None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def date(day: dt.date | str, lang: Lang) -> str:
    """A date in the Buddhist Era: 15 ม.ค. 2570 / 15 Jan 2570."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year + 543}"
