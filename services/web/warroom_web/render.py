"""Pages from Jinja templates: every page gets the language, its labels, the user and a CSRF
token; Thai unless the URL says `lang=en`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from warroom_web import i18n
from warroom_web.i18n import Lang
from warroom_web.session import User, csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["number"] = i18n.number
templates.env.filters["percent"] = i18n.percent


def lang_of(request: Request) -> Lang:
    return "en" if request.query_params.get("lang") == "en" else "th"


def page(
    request: Request, template: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = lang_of(request)
    other: Lang = "th" if lang == "en" else "en"
    return templates.TemplateResponse(
        request, template, status_code=status_code,
        context={
            "lang": lang, "t": i18n.translator(lang), "user": user,
            "csrf": csrf_token(request),
            "switch_url": _relative(request, lang=other),
            "lang_query": "?lang=en" if lang == "en" else "",
            "date": lambda day: i18n.date(day, lang),
            **context,
        },
    )  # fmt: skip


def _relative(request: Request, **params: str) -> str:
    """This page's path and query with `params` changed (a link that stays on this site)."""
    url = request.url.include_query_params(**params)
    return f"{url.path}?{url.query}"
