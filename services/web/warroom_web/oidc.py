"""Signing in with the identity provider: OpenID Connect's authorization code flow with PKCE
(S256) through Authlib's Starlette client, which checks `state` against the session and the ID
token's signature, issuer, audience and `nonce`. The session keeps the access token, the refresh
token and the expiry, in its signed cookie: every replica can serve every user with no store
beside it, and without the ID token the cookie stays well under the browsers' 4 KB.

The live stream's own token comes from here too (`ServiceToken`): the client credentials grant
of a monitor's client, or a development token on the embedded default, renewed before it ends
(or, without an identity provider, the fixed `WARROOM_LIVE_TOKEN`, until it expires)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import jwt
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from warroom_shared.jsonbody import StrictJSONRoute
from warroom_shared.security.access import PUBLIC, Guard
from warroom_shared.security.principal import AccessRole
from warroom_shared.security.tokens import DevKeys, InvalidToken
from warroom_web import session
from warroom_web.devauth import landing, local_path
from warroom_web.i18n import Lang, translator
from warroom_web.render import lang_of, page
from warroom_web.session import CsrfChecked, Tokens
from warroom_web.settings import WebSettings

log = logging.getLogger(__name__)
# Forms, not JSON; the shared route class all the same (every route with a body has it).
router = APIRouter(tags=["sign-in"], include_in_schema=False, route_class=StrictJSONRoute)
Anyone = Annotated[None, Depends(PUBLIC)]
# Browsers drop a cookie past 4096 bytes (name, value and attributes); Keycloak's tokens for a
# user with a few roles come to about 3.2 KB in ours.
COOKIE_LIMIT = 3900
RECENT = 30.0  # seconds a refresh's answer is reused for the same refresh token


class Provider:
    """The website's client at the identity provider (discovery, once, on first use)."""

    def __init__(self, settings: WebSettings) -> None:
        assert settings.oidc_issuer is not None
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.oauth = OAuth()
        self.client = self._register(
            "warroom", settings.oidc_client_id, settings.oidc_client_secret,
            scope=settings.oidc_scopes, code_challenge_method="S256",
        )  # fmt: skip
        self.live = None
        if settings.live_client_id is not None:
            self.live = self._register("live", settings.live_client_id, settings.live_client_secret)
        # Browsers send several requests at once (a page, its live stream): one refresh each
        # refresh token, its answer kept a while for the requests still carrying the old cookie.
        self._refreshes: dict[str, tuple[float, asyncio.Task[Tokens | None]]] = {}

    def _register(self, name: str, client_id: str, secret: str | None, **kwargs: Any) -> Any:
        auth = {"token_endpoint_auth_method": "none"} if secret is None else {}
        return self.oauth.register(
            name, client_id=client_id, client_secret=secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={"timeout": 10.0, **auth, **kwargs},
        )  # fmt: skip

    async def refresh(self, refresh_token: str) -> Tokens | None:
        """New tokens, or None if the provider refused (signed out there, or the session there
        ended); `httpx.HTTPError` if it could not be reached."""
        now = time.monotonic()
        self._refreshes = {k: v for k, v in self._refreshes.items() if now - v[0] < RECENT}
        if refresh_token not in self._refreshes:
            task = asyncio.create_task(self._refresh(refresh_token))
            self._refreshes[refresh_token] = (now, task)
        return await asyncio.shield(self._refreshes[refresh_token][1])

    async def _refresh(self, refresh_token: str) -> Tokens | None:
        try:
            answer = await self.client.fetch_access_token(
                grant_type="refresh_token", refresh_token=refresh_token
            )
        except OAuthError as exc:
            log.info("the identity provider refused a refresh: %s", exc.error)
            return None
        except httpx.HTTPError:
            self._refreshes.pop(refresh_token, None)  # try again on the next request
            raise
        return _tokens(answer, refresh_token)

    async def logout_url(self, back: str) -> str | None:
        """The provider's end-session address (RP-initiated logout), if it has one."""
        try:
            metadata = await self.client.load_server_metadata()
        except httpx.HTTPError:
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        answer = await self.client.create_logout_url(
            post_logout_redirect_uri=back, client_id=self.client_id
        )
        url: str = answer["url"]
        return url

    def origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"


def _tokens(answer: dict[str, Any], refresh_token: str | None = None) -> Tokens:
    expires = answer.get("expires_at") or time.time() + float(answer.get("expires_in", 300))
    refresh = answer.get("refresh_token") or refresh_token or ""
    return Tokens(answer["access_token"], refresh, float(expires))


class ServiceToken:
    """The live stream's token and when it expires, got again within `margin` seconds of its
    expiry: from the identity provider (client credentials) or minted with the dev key."""

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, float]]], margin: float) -> None:
        self._fetch, self.margin = fetch, margin
        self._token, self._expires = "", 0.0
        self.renewals = 0

    async def __call__(self) -> tuple[str, float]:
        if self._expires - time.time() <= self.margin:
            self._token, self._expires = await self._fetch()
            self.renewals += 1
        return self._token, self._expires


def service_token(settings: WebSettings, provider: Provider | None) -> ServiceToken | None:
    margin = settings.token_refresh_margin
    if provider is not None and provider.live is not None:
        live = provider.live

        async def credentials() -> tuple[str, float]:
            answer = await live.fetch_access_token(grant_type="client_credentials")
            tokens = _tokens(answer)
            return tokens.access, tokens.expires

        return ServiceToken(credentials, margin)
    if settings.live_token is not None:
        return ServiceToken(_fixed(settings.live_token), margin)
    keys = settings.dev_keys()
    if keys is None:
        return None
    return ServiceToken(_minted(keys, max(3600.0, 2 * margin)), margin)


def _fixed(token: str) -> Callable[[], Awaitable[tuple[str, float]]]:
    """The configured token, until its `exp` (a token without one: for an hour at a time)."""

    async def fixed() -> tuple[str, float]:
        try:
            expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        except (jwt.PyJWTError, KeyError, ValueError):
            expires = time.time() + 3600
        if expires <= time.time():
            log.error(
                "WARROOM_LIVE_TOKEN has expired: the live headline stops until it is replaced"
            )
        return token, expires

    return fixed


def _minted(keys: DevKeys, ttl: float) -> Callable[[], Awaitable[tuple[str, float]]]:
    async def mint() -> tuple[str, float]:
        expires = time.time() + ttl
        token = keys.mint(AccessRole.MONITOR, subject="web-live", ttl=dt.timedelta(seconds=ttl))
        return token, expires

    return mint


@router.get("/signin/oidc")
async def get_signin_oidc(_: Anyone, request: Request, next: str = "") -> Response:
    """Off to the identity provider, with where to come back to."""
    provider = _provider(request)
    if provider is None:
        return _problem(request, "not_configured", 404)
    request.session["next"] = local_path(next)
    request.session["lang"] = lang_of(request)
    try:
        redirect: Response = await provider.client.authorize_redirect(
            request, str(request.url_for("get_signin_callback"))
        )
    except httpx.HTTPError as exc:
        log.warning("the identity provider could not be reached: %r", exc)
        return _problem(request, "unreachable", 502)
    return redirect


@router.get("/signin/callback")
async def get_signin_callback(_: Anyone, request: Request) -> Response:
    """Back from the identity provider: the code for tokens (with the PKCE verifier), then the
    user's area, or where they were going."""
    provider = _provider(request)
    if provider is None:
        return _problem(request, "not_configured", 404)
    try:
        answer = await provider.client.authorize_access_token(request)
    except OAuthError as exc:
        log.info("a sign-in did not complete: %s %s", exc.error, exc.description)
        reason = exc.error if exc.error in ("access_denied", "mismatching_state") else "refused"
        return _problem(request, reason, 403 if reason == "access_denied" else 400)
    except httpx.HTTPError as exc:
        log.warning("the identity provider could not be reached: %r", exc)
        return _problem(request, "unreachable", 502)
    tokens = _tokens(answer)
    guard: Guard = request.app.state.guard
    try:
        principal = await guard.verifier.principal(tokens.access)
    except InvalidToken as exc:
        log.info("a signed-in user's token gives no War Room role: %s", exc)
        return _problem(request, "no_role", 403)
    back, lang = request.session.get("next", ""), request.session.get("lang", "th")
    session.sign_in(request, tokens)
    request.session["via"] = "oidc"  # sign-out ends the provider's session too
    if session.cookie_size(request) > COOKIE_LIMIT:
        log.error("the identity provider's tokens are too large for the session cookie")
        session.sign_out(request)
        request.session["lang"] = lang
        return _problem(request, "too_large", 502)
    lang_query = "?lang=en" if lang == "en" else ""
    return RedirectResponse(local_path(back) or landing(principal, lang_query), status_code=303)


@router.post("/signout")
async def post_signout(_: Anyone, __: CsrfChecked, request: Request) -> Response:
    """End the session here, and at the identity provider where it has an end-session address."""
    provider = _provider(request)
    ours = request.session.get("via") == "oidc"
    session.sign_out(request)
    back = str(request.url_for("get_signin"))
    if provider is not None and ours and (url := await provider.logout_url(back)):
        return RedirectResponse(url, status_code=303)
    return RedirectResponse("/signin", status_code=303)


def _problem(request: Request, reason: str, status: int) -> HTMLResponse:
    """A page that says why signing in did not work (in the language the user started in)."""
    lang: Lang = "en" if request.session.get("lang", lang_of(request)) == "en" else "th"
    again = "/signin?lang=en" if lang == "en" else "/signin"
    return page(request, "pages/signin_error.html", None, status_code=status, reason=reason,
                lang=lang, t=translator(lang), again=again)  # fmt: skip


def _provider(request: Request) -> Provider | None:
    provider: Provider | None = request.app.state.oidc
    return provider
