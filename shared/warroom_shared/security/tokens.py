"""Bearer tokens: signed JWTs checked against a JWKS.

The keys come from an identity provider's JWKS URL (Keycloak, for example) or, on the embedded
default, from a key pair the platform generates on first start (`DevKeys`). Verified tokens are
remembered until they expire or their key leaves the provider's set, so a busy client costs one
signature check, not one per request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from warroom_shared.security.principal import AREA_DIGITS, AccessRole, Principal

DEV_ISSUER = "warroom-embedded"
AUDIENCE = "warroom"
ALGORITHM = "ES256"

log = logging.getLogger(__name__)


class InvalidToken(Exception):
    """The token is missing a part, badly signed, expired, or not meant for us."""


@dataclass(frozen=True)
class Claims:
    """Where a token carries the role and the area (an identity provider's mappers set these)."""

    issuer: str
    audience: str = AUDIENCE
    role_claim: str = "warroom_role"
    area_claim: str = "warroom_area"
    leeway: float = 30.0  # seconds of clock skew tolerated on exp/nbf/iat


class KeySet:
    """Public keys by key id, from a JWKS file (read once) or URL.

    From a URL the set follows the provider both ways: it is fetched again every `refresh`
    seconds, so a key the provider removed (after a compromise, say) stops being trusted within
    that time, and at once when a token names a new kid (the provider rotated its keys), at most
    once per `cooldown` seconds, so tokens with made-up kids cannot make us hammer the provider.
    If the provider cannot be reached the keys in hand stay, tried again after `cooldown`."""

    def __init__(
        self, *, url: str | None = None, file: Path | None = None, refresh: float = 300.0,
        cooldown: float = 30.0,
    ) -> None:  # fmt: skip
        if (url is None) == (file is None):
            raise ValueError("give the JWKS as a URL or as a file, not both")
        self._keys: dict[str, jwt.PyJWK] = {}
        self._refresh, self._cooldown = refresh, cooldown
        # Only PyJWKClient's download: its cache would block a request on the network when it
        # expires, and its per-kid cache never forgets a key.
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=10) if url else None
        self._due = 0.0  # time.monotonic() when the set is fetched again
        self._tried = -math.inf  # time.monotonic() of the last fetch, whatever came of it
        self._lock = asyncio.Lock()
        if file is not None:
            self._keys = _by_kid(jwt.PyJWKSet.from_json(file.read_text()))
            self._due = math.inf

    async def key(self, kid: str) -> jwt.PyJWK:
        await self._follow()
        found = self._keys.get(kid)
        if found is None and self._client is not None:
            found = await self._fetch_for(kid)
        if found is None:
            raise InvalidToken(f"unknown key id {kid!r}")
        return found

    async def has(self, kid: str) -> bool:
        """Whether the provider still lists the key (a remembered token is dropped if not)."""
        await self._follow()
        return kid in self._keys

    async def _follow(self) -> None:
        if time.monotonic() < self._due:
            return
        async with self._lock:
            if time.monotonic() >= self._due:  # another request may have fetched meanwhile
                await self._fetch()

    async def _fetch_for(self, kid: str) -> jwt.PyJWK | None:
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._tried >= self._cooldown:
                await self._fetch()
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        assert self._client is not None
        self._tried = time.monotonic()
        try:  # urllib blocks: off the event loop
            fetched = await asyncio.to_thread(self._client.get_jwk_set)
        except (jwt.PyJWTError, OSError, ValueError) as exc:
            log.warning("keeping the keys in hand: the JWKS could not be fetched: %s", exc)
            self._due = time.monotonic() + self._cooldown
            return
        self._keys = _by_kid(fetched)
        self._due = time.monotonic() + self._refresh


def _by_kid(keys: jwt.PyJWKSet) -> dict[str, jwt.PyJWK]:
    return {key.key_id or "": key for key in keys.keys}


class TokenVerifier:
    def __init__(self, keys: KeySet, claims: Claims, cache_size: int = 10_000) -> None:
        self.keys, self.claims = keys, claims
        self._cache: dict[str, tuple[Principal, float, str]] = {}  # principal, exp, kid
        self._cache_size = cache_size

    async def principal(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None:
            principal, expires, kid = cached
            if expires > time.time() and await self.keys.has(kid):
                return principal
            del self._cache[token]  # expired, or its key is no longer the provider's
        kid, payload = await self._decode(token)
        principal = principal_of(payload, self.claims)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()  # crude but bounded; a full cache only costs re-verification
        self._cache[token] = (principal, float(payload["exp"]), kid)
        return principal

    async def _decode(self, token: str) -> tuple[str, dict[str, Any]]:
        try:
            kid = jwt.get_unverified_header(token).get("kid") or ""
            key = await self.keys.key(kid)
            payload: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=[key.algorithm_name], audience=self.claims.audience,
                issuer=self.claims.issuer, leeway=self.claims.leeway,
                options={"require": ["exp", "iat", "sub"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        return kid, payload


def principal_of(payload: dict[str, Any], claims: Claims) -> Principal:
    role_value = _claim(payload, claims.role_claim)
    try:
        role = AccessRole(role_value)
    except ValueError:
        raise InvalidToken(f"{claims.role_claim} names no role: {role_value!r}") from None
    area = _claim(payload, claims.area_claim)
    digits = AREA_DIGITS.get(role)
    if digits is None:
        area = None
    elif not (isinstance(area, str) and len(area) == digits and area.isdigit()):
        raise InvalidToken(f"a {role} token needs a {digits}-digit {claims.area_claim}")
    return Principal(subject=str(payload["sub"]), role=role, area=area)


def _claim(payload: dict[str, Any], path: str) -> Any:
    """A claim by dotted path (`resource_access.warroom.role`); a one-item list counts as it."""
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


class DevKeys:
    """The embedded default's own key pair: a private key to sign development tokens and the
    JWKS the services check them with. Made on first start, kept in the data folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.private_path = folder / "signing-key.pem"
        self.jwks_path = folder / "jwks.json"

    def ensure(self) -> DevKeys:
        if self.private_path.exists() and self.jwks_path.exists():
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )  # fmt: skip
        self.private_path.touch(mode=0o600)
        self.private_path.write_bytes(pem)
        jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
        jwk.update(kid=uuid.uuid4().hex[:16], use="sig", alg=ALGORITHM)
        self.jwks_path.write_text(json.dumps({"keys": [jwk]}, indent=2))
        return self

    def mint(
        self, role: AccessRole, area: str | None = None, *, subject: str | None = None,
        ttl: dt.timedelta = dt.timedelta(hours=8),
    ) -> str:  # fmt: skip
        """A signed development token that expires after `ttl`."""
        kid = json.loads(self.jwks_path.read_text())["keys"][0]["kid"]
        now = int(time.time())
        payload = {
            "iss": DEV_ISSUER, "aud": AUDIENCE, "sub": subject or f"dev-{role}-{area or 'all'}",
            "iat": now, "exp": now + int(ttl.total_seconds()), "jti": uuid.uuid4().hex,
            "warroom_role": str(role), **({"warroom_area": area} if area else {}),
        }  # fmt: skip
        return jwt.encode(payload, self.private_path.read_bytes(), ALGORITHM, headers={"kid": kid})
