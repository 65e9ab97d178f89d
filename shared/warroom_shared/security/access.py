"""Access rules of the routes: who may call each one, checked before the handler runs.

Every route declares its rule as a dependency (`Allow(...)` or `PUBLIC`); `service_app` refuses
to build an app with a route that has none, and writes each rule into the OpenAPI document as
`x-warroom-access`, from which the test suite generates its authorization matrix. Officers are
further held to their area by the handlers (out-of-area ids answer 404, filters 403).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from warroom_shared.http import Problem
from warroom_shared.i18n import Message
from warroom_shared.security.principal import AccessRole, Principal
from warroom_shared.security.ratelimit import RateLimit
from warroom_shared.security.tokens import InvalidToken, TokenVerifier

ADMIN, NATIONAL_VIEWER, PROVINCE_OFFICER, DISTRICT_OFFICER, MONITOR = tuple(AccessRole)
EVERYONE = tuple(AccessRole)
READERS = (ADMIN, NATIONAL_VIEWER, PROVINCE_OFFICER, DISTRICT_OFFICER)  # reports and teams
REALM = 'Bearer realm="warroom"'

BEARER = "A JWT from the identity provider (or `warroom token` on the embedded default)"


def address_key(host: str | None) -> str:
    """The rate-limit key of a caller without a good token: its address (the proxy's
    X-Forwarded-For, where uvicorn trusts the proxy: FORWARDED_ALLOW_IPS)."""
    return f"ip:{host or ''}"


@dataclass(frozen=True)
class Guard:
    """What an app needs to check callers: its token verifier and its rate limit."""

    verifier: TokenVerifier
    rate_limit: RateLimit


def unauthenticated(invalid_token: str | None = None) -> Problem:
    """401: no token, or one that is not valid (`invalid_token`: why)."""
    if invalid_token is None:
        return Problem(401, "unauthenticated", headers={"WWW-Authenticate": REALM})
    challenge = f'{REALM}, error="invalid_token"'
    message = Message("invalid_token", reason=invalid_token)
    return Problem(401, "unauthenticated", message, headers={"WWW-Authenticate": challenge})


def outside_area(scope: str, code: str | None = None) -> Problem:
    """403 for a place outside the caller's area: a `district` or `province` code, or the
    `national` scope."""
    return Problem(403, "outside_area", place=Message(f"place_{scope}", code=code))


def area_filters(
    principal: Principal, district: str | None, province: str | None
) -> tuple[str | None, str | None]:
    """A list's district and province filters held to the caller's area: an out-of-area filter
    is refused (403), a missing one becomes the officer's own area."""
    if district is not None and not principal.covers_district(district):
        raise outside_area("district", district)
    if province is not None and not principal.covers_province(province):
        raise outside_area("province", province)
    if principal.national:
        return district, province
    return district or principal.district, principal.province


class Allow(HTTPBearer):
    """The roles that may call a route; the caller's `Principal` is the dependency's value.

    It is the route's bearer scheme itself (one `HTTPBearer` in the OpenAPI document), so
    FastAPI resolves one dependency per request, not a rule and a scheme beneath it."""

    anonymous = False

    def __init__(self, *roles: AccessRole) -> None:
        super().__init__(scheme_name="HTTPBearer", description=BEARER, auto_error=False)
        self.roles = frozenset(roles)

    def describe(self) -> dict[str, Any]:
        ordered = [r.value for r in AccessRole if r in self.roles]
        return {"public": False, "anonymous": self.anonymous, "roles": ordered}

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        principal = await self._principal(request)
        if principal is None:
            raise unauthenticated()
        return principal

    async def _principal(self, request: Request) -> Principal | None:
        # The token as HTTPBearer reads it, without building its credentials model each time
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        guard: Guard = request.app.state.guard
        if not (scheme and token) or scheme.lower() != "bearer":
            if self.anonymous:
                await guard.rate_limit.check(_address(request))
            return None
        try:
            principal = await guard.verifier.principal(token)
        except InvalidToken as exc:
            await guard.rate_limit.check(_address(request))  # guessing tokens costs signatures
            raise unauthenticated(str(exc)) from None
        if principal.role not in self.roles:
            raise Problem(403, "forbidden", role=principal.role)
        await guard.rate_limit.check(f"sub:{principal.subject}")
        return principal


def _address(request: Request) -> str:
    return address_key(request.client.host if request.client else None)


class AllowAnonymous(Allow):
    """As `Allow`, but a request without a token goes on as `None` (the handler decides)."""

    anonymous = True

    async def __call__(self, request: Request) -> Principal | None:  # type: ignore[override]
        return await self._principal(request)


class Public:
    """Open to anyone: health checks (rate-limited by address: `security.public`)."""

    def describe(self) -> dict[str, Any]:
        return {"public": True, "anonymous": True, "roles": []}

    async def __call__(self) -> None:
        return None


PUBLIC = Public()


def rule_of(route: APIRoute) -> Allow | Public | None:
    for dependant in _walk(route.dependant):
        if isinstance(dependant.call, Allow | Public):
            return dependant.call
    return None


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def annotate_rules(routes: list[Any]) -> None:
    """Every API route must have a rule; it is written into the OpenAPI document."""
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        rule = rule_of(route)
        if rule is None:
            raise RuntimeError(f"{sorted(route.methods or ())} {route.path} has no access rule")
        route.openapi_extra = {**(route.openapi_extra or {}), "x-warroom-access": rule.describe()}
