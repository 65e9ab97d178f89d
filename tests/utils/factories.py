"""Small builders of valid request bodies; tests change only what they are about."""

from __future__ import annotations

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
