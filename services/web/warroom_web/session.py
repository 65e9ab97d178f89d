"""Who is signed in: a signed, httpOnly, SameSite=Lax session cookie (Secure in production)
holding the user's bearer token, and a CSRF token that every form sends back.

How the token got there is the sign-in's business (`devauth` on the embedded default; an OpenID
Connect code flow can put an identity provider's token in the same place: `sign_in`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from starlette.middleware.sessions import SessionMiddleware

from warroom_shared.http import Problem
from warroom_shared.security.access import Guard
from warroom_shared.security.principal import Principal
from warroom_shared.security.tokens import InvalidToken
from warroom_web.settings import WebSettings

COOKIE = "warroom_session"


@dataclass(frozen=True)
class User:
    principal: Principal
    token: str


def install(app: FastAPI, settings: WebSettings) -> None:
    assert settings.session_secret is not None
    app.add_middleware(
        SessionMiddleware, secret_key=settings.session_secret, session_cookie=COOKIE,
        max_age=int(settings.session_hours * 3600), same_site="lax",
        https_only=settings.environment == "production",
    )  # fmt: skip


def sign_in(request: Request, token: str) -> None:
    """A new session (a new CSRF token too: nothing from before signing in carries over)."""
    request.session.clear()
    request.session.update(token=token, csrf=secrets.token_urlsafe(32))


def sign_out(request: Request) -> None:
    request.session.clear()


async def current_user(request: Request) -> User | None:
    """The signed-in user, or None (no session, or its token expired or is no longer trusted:
    then the session is dropped)."""
    token = request.session.get("token")
    if not isinstance(token, str):
        return None
    guard: Guard = request.app.state.guard
    try:
        principal = await guard.verifier.principal(token)
    except InvalidToken:
        sign_out(request)
        return None
    return User(principal, token)


MaybeUser = Annotated[User | None, Depends(current_user)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for a form's hidden field (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """A form's CSRF token must be its session's: 403 otherwise."""
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not secrets.compare_digest(expected, csrf):
        raise Problem(403, "csrf")


CsrfChecked = Annotated[None, Depends(checked_csrf)]
