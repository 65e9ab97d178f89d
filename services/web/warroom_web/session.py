"""Who is signed in: a signed, httpOnly, SameSite=Lax session cookie (Secure in production)
holding the user's bearer token, and a CSRF token that every form sends back.

How the token got there is the sign-in's business (`devauth` on the embedded default, `oidc` with
an identity provider, which also leaves a refresh token and the expiry: the access token is then
renewed on the first request within `token_refresh_margin` of its expiry)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import httpx
from fastapi import Depends, FastAPI, Form, Request
from starlette.middleware.sessions import SessionMiddleware

from warroom_shared.http import Problem
from warroom_shared.security.access import Guard
from warroom_shared.security.principal import Principal
from warroom_shared.security.tokens import InvalidToken
from warroom_web.settings import WebSettings

if TYPE_CHECKING:
    from warroom_web.oidc import Provider

COOKIE = "warroom_session"


@dataclass(frozen=True)
class Tokens:
    """What the session keeps of the identity provider's answer (not the ID token: the cookie
    stays small)."""

    access: str
    refresh: str
    expires: float  # seconds since the epoch


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


def sign_in(request: Request, token: str | Tokens) -> None:
    """A new session (a new CSRF token too: nothing from before signing in carries over)."""
    request.session.clear()
    request.session["csrf"] = secrets.token_urlsafe(32)
    if isinstance(token, Tokens):
        _keep(request, token)
    else:
        request.session["token"] = token


def _keep(request: Request, tokens: Tokens) -> None:
    """Without a refresh token (a provider may give none) the session lasts as its token does."""
    request.session["token"] = tokens.access
    if tokens.refresh:
        request.session.update(refresh=tokens.refresh, expires=int(tokens.expires))


def cookie_size(request: Request) -> int:
    """The session cookie's value as `SessionMiddleware` will write it (JSON, base64, then a
    timestamp and a signature)."""
    encoded = base64.b64encode(json.dumps(request.session).encode())
    return len(encoded) + 1 + 6 + 1 + 27


def sign_out(request: Request) -> None:
    request.session.clear()


async def current_user(request: Request) -> User | None:
    """The signed-in user, or None (no session, or its token expired or is no longer trusted:
    then the session is dropped)."""
    token = request.session.get("token")
    if not isinstance(token, str):
        return None
    if _expiring(request):
        token = await _refreshed(request, token)
        if token is None:
            return None
    guard: Guard = request.app.state.guard
    try:
        principal = await guard.verifier.principal(token)
    except InvalidToken:
        sign_out(request)
        return None
    return User(principal, token)


def _expiring(request: Request) -> bool:
    expires, refresh = request.session.get("expires"), request.session.get("refresh")
    if not isinstance(expires, int) or not isinstance(refresh, str):
        return False
    settings: WebSettings = request.app.state.settings
    return expires - time.time() < settings.token_refresh_margin


async def _refreshed(request: Request, token: str) -> str | None:
    """The session's access token renewed with its refresh token. The session is dropped when
    the provider refuses (the user signs in again); when it cannot be reached, the token in hand
    serves while it lasts."""
    provider: Provider | None = request.app.state.oidc
    if provider is None:
        sign_out(request)
        return None
    try:
        renewed = await provider.refresh(request.session["refresh"])
    except httpx.HTTPError:
        return token
    if renewed is None:
        sign_out(request)
        return None
    _keep(request, renewed)
    return renewed.access


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
