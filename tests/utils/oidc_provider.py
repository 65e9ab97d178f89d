"""A small OpenID provider for the tests, in the shape of Keycloak: discovery, its keys (RS256),
a sign-in page with a username field, the token endpoint (authorization code with PKCE S256,
refresh token, client credentials) and end-session. Tokens carry the role where Keycloak's
client roles put it (`resource_access.warroom.roles`) and Keycloak's other claims, so their
size is honest."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jwt.algorithms import RSAAlgorithm

from tests.utils.apps import live_server

ROLE_CLAIM = "resource_access.warroom.roles"


@dataclass
class Account:
    role: str
    area: str | None = None


@dataclass
class Provider:
    """What the provider knows and what it saw; the tests change the first and read the second."""

    issuer: str = ""
    clients: dict[str, str | None] = field(default_factory=dict)  # id -> secret (None: public)
    accounts: dict[str, Account] = field(default_factory=dict)  # username -> account
    service_accounts: dict[str, Account] = field(default_factory=dict)  # client id -> account
    access_ttl: int = 300
    extra_claims: dict[str, Any] = field(default_factory=dict)  # in every access token
    grants: list[str] = field(default_factory=list)  # grant_type of each token request answered
    refused: list[str] = field(default_factory=list)  # the error of each refused one
    logouts: list[dict[str, str]] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> username
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, "RS256", headers={"kid": self.kid})

    def access_token(self, subject: str, account: Account, client_id: str) -> str:
        """An access token as Keycloak writes one for the `warroom` client's roles."""
        now = int(time.time())
        return self.sign({
            "exp": now + self.access_ttl, "iat": now, "auth_time": now, "jti": uuid.uuid4().hex,
            "iss": self.issuer, "aud": ["warroom", "account"], "sub": subject, "typ": "Bearer",
            "azp": client_id, "sid": uuid.uuid4().hex, "acr": "1",
            "allowed-origins": ["https://warroom.example.go.th"],
            "realm_access": {"roles": ["offline_access", "uma_authorization", "default-roles-moi"]},
            "resource_access": {
                "warroom": {"roles": [account.role]},
                "account": {"roles": ["manage-account", "manage-account-links", "view-profile"]},
            },
            "scope": "openid profile email", "email_verified": True,
            "name": "สมชาย ใจดี", "preferred_username": subject, "given_name": "สมชาย",
            "family_name": "ใจดี", "email": f"{subject}@dopa.example.go.th",
            **({"warroom_area": account.area} if account.area else {}), **self.extra_claims,
        })  # fmt: skip

    def token(self, role: str, area: str | None = None) -> str:
        """An access token for a test's own calls to the services."""
        return self.access_token(f"test-{role}", Account(role, area), "warroom-tests")

    def revoke_refresh_tokens(self) -> None:
        """As when the user's session at the provider ended: every refresh is refused."""
        self.refresh_tokens.clear()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _error(provider: Provider, error: str, status: int = 400) -> JSONResponse:
    provider.refused.append(error)
    return JSONResponse({"error": error}, status_code=status)


def create_app(provider: Provider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        base = provider.issuer
        return {
            "issuer": base, "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/certs",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        }  # fmt: skip

    @app.get("/certs")
    async def certs() -> dict[str, Any]:
        return provider.jwks()

    @app.get("/auth", response_class=HTMLResponse)
    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        provider.authorize_requests.append(params)
        if params.get("client_id") not in provider.clients or params.get("response_type") != "code":
            return HTMLResponse("unknown client or response type", status_code=400)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        return HTMLResponse(
            '<!doctype html><html lang="en"><title>Identity provider</title><main>'
            '<h1>Sign in to the ministry</h1><form method="post" action="/auth">'
            f'{hidden}<label for="username">Username</label>'
            '<input id="username" name="username">'
            '<button name="decision" value="allow">Log in</button>'
            '<button name="decision" value="deny">Cancel</button></form></main></html>'
        )

    @app.post("/auth")
    async def login(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        back, state = form["redirect_uri"], form.get("state", "")
        if form.get("decision") == "deny" or form.get("username") not in provider.accounts:
            query = urlencode({"error": "access_denied", "state": state})
            return RedirectResponse(f"{back}?{query}", status_code=302)
        code = secrets.token_urlsafe(24)
        provider.codes[code] = form
        return RedirectResponse(f"{back}?{urlencode({'code': code, 'state': state})}", 302)

    @app.post("/token")
    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id = _client(provider, request, form)
        if client_id is None:
            return _error(provider, "invalid_client", 401)
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            answer = _code(provider, client_id, form)
        elif grant == "refresh_token":
            answer = _refresh(provider, client_id, form)
        elif grant == "client_credentials" and client_id in provider.service_accounts:
            account = provider.service_accounts[client_id]
            answer = {"access_token": provider.access_token(f"service-account-{client_id}",
                                                            account, client_id)}  # fmt: skip
        else:
            answer = "unauthorized_client"
        if isinstance(answer, str):
            return _error(provider, answer)
        provider.grants.append(grant)
        return JSONResponse(
            {**answer, "token_type": "Bearer", "expires_in": provider.access_ttl},
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/logout")
    async def logout(request: Request) -> Response:
        params = dict(request.query_params)
        provider.logouts.append(params)
        back = params.get("post_logout_redirect_uri")
        if back is None:
            return HTMLResponse("<p>You are signed out.</p>")
        state = params.get("state")
        return RedirectResponse(back + (f"?{urlencode({'state': state})}" if state else ""), 302)

    return app


def _client(provider: Provider, request: Request, form: dict[str, str]) -> str | None:
    """The calling client, by HTTP Basic (confidential) or its client_id alone (public)."""
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if client_id not in provider.clients:
        return None
    expected = provider.clients[client_id]
    return client_id if expected is None or secrets.compare_digest(expected, secret) else None


def _code(provider: Provider, client_id: str, form: dict[str, str]) -> dict[str, str] | str:
    request = provider.codes.get(form.get("code", ""))
    if request is None or request["client_id"] != client_id:
        return "invalid_grant"
    if form.get("redirect_uri") != request["redirect_uri"]:
        return "invalid_grant"
    challenge = request.get("code_challenge")
    if challenge is not None:  # PKCE (RFC 7636): S256 only
        verifier = form.get("code_verifier", "")
        if request.get("code_challenge_method") != "S256" or _s256(verifier) != challenge:
            return "invalid_grant"  # the code stays: the real client may still redeem it
    del provider.codes[form["code"]]
    username = request["username"]
    tokens = _issue(provider, client_id, username)
    now = int(time.time())
    tokens["id_token"] = provider.sign({
        "iss": provider.issuer, "aud": client_id, "sub": username, "iat": now,
        "exp": now + provider.access_ttl, "auth_time": now, "nonce": request.get("nonce"),
        "azp": client_id, "preferred_username": username,
    })  # fmt: skip
    return tokens


def _refresh(provider: Provider, client_id: str, form: dict[str, str]) -> dict[str, str] | str:
    username = provider.refresh_tokens.pop(form.get("refresh_token", ""), None)
    if username is None:
        return "invalid_grant"
    return _issue(provider, client_id, username)


def _issue(provider: Provider, client_id: str, username: str) -> dict[str, str]:
    """An access token and a (rotated) refresh token, Keycloak's size."""
    now = int(time.time())
    refresh = provider.sign({
        "exp": now + 1800, "iat": now, "jti": uuid.uuid4().hex, "iss": provider.issuer,
        "aud": provider.issuer, "sub": username, "typ": "Refresh", "azp": client_id,
        "sid": uuid.uuid4().hex, "scope": "openid profile email",
    })  # fmt: skip
    provider.refresh_tokens[refresh] = username
    account = provider.accounts[username]
    return {"access_token": provider.access_token(username, account, client_id),
            "refresh_token": refresh}  # fmt: skip


@asynccontextmanager
async def running(provider: Provider) -> AsyncIterator[Provider]:
    """The provider on a free loopback port; `provider.issuer` is its address."""
    async with live_server(create_app(provider)) as url:
        provider.issuer = url
        yield provider
