"""The development sign-in of the embedded default: pick a role and an area, get a development
token signed with the platform's own key (the one the services trust there). Off in production
and wherever that key is not at hand; an identity provider's sign-in is `oidc`'s."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from warroom_shared.jsonbody import StrictJSONRoute
from warroom_shared.security.access import PUBLIC
from warroom_shared.security.principal import AREA_DIGITS, AccessRole, Principal
from warroom_web import geo, session
from warroom_web.render import lang_of, page
from warroom_web.session import CsrfChecked, MaybeUser
from warroom_web.settings import WebSettings

# Forms, not JSON; the shared route class all the same (every route with a body has it).
router = APIRouter(tags=["sign-in"], include_in_schema=False, route_class=StrictJSONRoute)
Anyone = Annotated[None, Depends(PUBLIC)]


def landing(principal: Principal, lang_query: str = "") -> str:
    """Where a user starts: officers on their own area, everyone else on the nation."""
    if principal.district is not None:
        return f"/district/{principal.district}{lang_query}"
    if principal.area is not None:
        return f"/province/{principal.area}{lang_query}"
    return f"/{lang_query}"


def local_path(path: str) -> str:
    """`path` if it is one of this site's (`/province/12?lang=en`), else "": a return address
    never sends the user to another site."""
    # Browsers read `/\host` as `//host`, and drop tabs and newlines before they look.
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return ""
    return path if path.isprintable() else ""


@router.get("/signin", response_class=HTMLResponse)
async def get_signin(_: Anyone, request: Request, user: MaybeUser) -> Response:
    """The sign-in page: the identity provider's where it is set, the development one where it
    is on."""
    enabled = _settings(request).dev_keys() is not None
    oidc = request.app.state.oidc is not None
    back = local_path(request.query_params.get("next", ""))
    oidc_url = "/signin/oidc?" + urlencode({"next": back, **_lang(request)})
    return page(request, "pages/signin.html", user, enabled=enabled, errors={},
                form={"next": back}, roles=list(AccessRole), oidc=oidc, oidc_url=oidc_url,
                status_code=200 if enabled or oidc else 404)  # fmt: skip


@router.post("/signin", response_class=HTMLResponse)
async def post_signin(
    _: Anyone, __: CsrfChecked, request: Request,
    role: Annotated[str, Form()] = "", area: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Mint a development token for the role and area, keep it in the session."""
    settings = _settings(request)
    keys = settings.dev_keys()
    if keys is None:
        return page(request, "pages/signin.html", None, enabled=False, errors={}, form={},
                    roles=list(AccessRole), oidc=False, status_code=404)  # fmt: skip
    errors = _errors(role, area.strip(), lang_of(request))
    if errors:
        return page(request, "pages/signin.html", None, enabled=True, errors=errors,
                    form={"role": role, "area": area, "next": next}, roles=list(AccessRole),
                    oidc=False, status_code=422)  # fmt: skip
    access = AccessRole(role)
    token = keys.mint(
        access, area.strip() or None, subject=f"web-dev-{access}-{area.strip() or 'all'}",
        ttl=dt.timedelta(hours=settings.session_hours),
    )  # fmt: skip
    session.sign_in(request, token)
    principal = Principal(subject="", role=access, area=area.strip() or None)
    lang_query = "?lang=en" if lang_of(request) == "en" else ""
    # Back where the user was sent from: a path of ours only, never another site.
    return RedirectResponse(local_path(next) or landing(principal, lang_query), status_code=303)


def _lang(request: Request) -> dict[str, str]:
    return {"lang": "en"} if lang_of(request) == "en" else {}


def _errors(role: str, area: str, lang: str) -> dict[str, str]:
    en = lang == "en"
    if role not in {r.value for r in AccessRole}:
        return {"role": "Choose a role" if en else "เลือกบทบาท"}
    digits = AREA_DIGITS.get(AccessRole(role))
    if digits is None:
        if area:
            return {"area": "Leave the area empty for this role" if en
                    else "บทบาทนี้ไม่ต้องระบุพื้นที่"}  # fmt: skip
        return {}
    if not (len(area) == digits and area.isdigit()):
        return {"area": f"Enter a {digits}-digit code" if en else f"กรอกรหัส {digits} หลัก"}
    if area not in geo.places():
        return {"area": f"No area has the code {area}" if en else f"ไม่มีพื้นที่รหัส {area}"}
    return {}


def _settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings
