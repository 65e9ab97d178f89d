"""Small builders of valid request bodies; tests change only what they are about."""

from __future__ import annotations

import uuid
from typing import Any


def member(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "สมชาย ใจดี",
        "position": "นายอำเภอ",
        "organisation": "ที่ว่าการอำเภอ",
        "phone": "081-234-5678",
        "email": "somchai@example.go.th",
    }
    body.update(overrides)
    return body


def report(**overrides: Any) -> dict[str, Any]:
    """A valid CAST report of Mueang Nonthaburi (1201; an amphoe: Bangkok's khet are outside the
    programme), FY 2568 Q2; a fresh `report_id` each call."""
    body: dict[str, Any] = {
        "report_id": str(uuid.uuid4()),
        "programme": "cast",
        "district_code": "1201",
        "subdistrict_code": "120101",
        "village_no": 3,
        "activity_date": "2025-02-14",
        "dimensions": ["water", "income"],
        "stages": ["talk", "act"],
        "participants": {
            "government": 5,
            "private": 2,
            "religious": 1,
            "civil_society": 3,
            "academic": 0,
            "people": 40,
            "media": 1,
        },
        "households": 12,
        "title": "ซ่อมแซมประปาหมู่บ้าน",
        "details": "ทีมอำเภอร่วมกับชาวบ้านซ่อมระบบประปาหมู่บ้าน",
        "reported_by": {"name": "สมศรี มีสุข", "position": "ปลัดอำเภอ"},
    }
    body.update(overrides)
    return body
