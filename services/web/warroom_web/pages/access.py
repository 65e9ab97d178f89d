"""What every page answers to a user it cannot serve: no one signed in (to the sign-in, and back
here after), or an area the services refuse this user (forbidden, or not found)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from warroom_web.devauth import landing
from warroom_web.render import lang_of, page
from warroom_web.session import User
from warroom_web.upstream import Refused


def to_sign_in(request: Request) -> Response:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": back, **({"lang": "en"} if lang_of(request) == "en" else {})}
    return RedirectResponse(f"/signin?{urlencode(query)}", status_code=303)


def refused_page(request: Request, user: User | None, refused: Refused) -> Response:
    """The services' own refusal: a token no longer good signs in again; an area unknown is 404,
    one not the user's 403, each page offering the way to their own area."""
    if refused.status == 401:
        return RedirectResponse("/signin", status_code=303)
    status = 404 if refused.status == 404 else 403
    template = "pages/not_found.html" if status == 404 else "pages/forbidden.html"
    home = landing(user.principal) if user else "/"
    return page(request, template, user, status_code=status, landing=home)
