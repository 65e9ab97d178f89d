"""Tokens, rate limits, headers, CORS and production settings, on a real service (the registry)."""

import datetime as dt
import time
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tests.utils.apps import serve
from tests.utils.auth import bearer, keys, token
from warroom_registry.app import create_app
from warroom_registry.settings import RegistrySettings
from warroom_shared.security.principal import AccessRole, Principal
from warroom_shared.security.tokens import Claims, InvalidToken, principal_of
from warroom_shared.settings import WarroomSettings


async def test_rate_limit_answers_429_with_retry_after_per_caller(
    registry_settings: RegistrySettings,
) -> None:
    app = create_app(registry_settings.model_copy(update={"rate_limit": "3/minute"}))
    async with serve(app, headers={}) as client:
        mine = [
            await client.get("/v1/reference", headers=bearer(AccessRole.MONITOR)) for _ in range(4)
        ]
        theirs = await client.get("/v1/reference", headers=bearer(AccessRole.NATIONAL_VIEWER))

    assert [r.status_code for r in mine] == [200, 200, 200, 429]
    assert 1 <= int(mine[3].headers["Retry-After"]) <= 60
    assert mine[3].json()["error"]["code"] == "rate_limited"
    assert theirs.status_code == 200


async def test_bad_tokens_from_one_address_are_rate_limited_too(
    registry_settings: RegistrySettings,
) -> None:
    app = create_app(registry_settings.model_copy(update={"rate_limit": "3/minute"}))
    forged = {"Authorization": f"Bearer {token(AccessRole.ADMIN)}x"}  # a broken signature
    async with serve(app, headers=forged) as client:
        answers = [await client.get("/v1/reference") for _ in range(4)]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert "Retry-After" in answers[3].headers


async def test_every_answer_carries_security_headers(
    registry: httpx.AsyncClient, registry_settings: RegistrySettings
) -> None:
    answers = [
        await registry.get("/v1/provinces"),
        await registry.get("/v1/provinces/99"),
        await registry.get("/v1/provinces", headers={"Authorization": "Bearer nonsense"}),
        await registry.post("/v1/teams", content=b"x" * 70_000, headers={"Content-Type": "text/plain"}),
        await registry.get("/docs"),
    ]  # fmt: skip
    production = create_app(registry_settings.model_copy(update={"environment": "production"}))
    async with serve(production) as client:
        over_tls = [await client.get("/v1/provinces"), await client.get("/v1/provinces/99")]

    assert [a.status_code for a in answers] == [200, 404, 401, 413, 200]
    for answer in [*answers, *over_tls]:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    for answer in answers:
        assert "strict-transport-security" not in answer.headers  # development: no TLS here
    assert [a.status_code for a in over_tls] == [200, 404]
    for answer in over_tls:
        assert answer.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


async def test_cors_only_for_configured_front_ends(registry_settings: RegistrySettings) -> None:
    front = "https://warroom.example.go.th"
    app = create_app(registry_settings.model_copy(update={"cors_origins": [front]}))
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}  # fmt: skip
    async with serve(app) as client:
        allowed = await client.options("/v1/teams", headers={"Origin": front, **preflight})
        refused = await client.options(
            "/v1/teams", headers={"Origin": "https://evil.example", **preflight}
        )
        simple = await client.get("/v1/reference", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == front
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_unauthenticated_answers_401_with_a_bearer_challenge(
    registry: httpx.AsyncClient,
) -> None:
    missing = await registry.get("/v1/provinces", headers={"Authorization": ""})
    expired = await registry.get(
        "/v1/provinces", headers={"Authorization": f"Bearer {token(ttl=dt.timedelta(hours=-1))}"}
    )

    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="warroom"'
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    assert "expired" in expired.json()["error"]["message"]


def _payload(**claims: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "u1", "iat": now, "exp": now + 60, **claims}


def test_role_and_area_can_come_from_an_identity_providers_nested_claims() -> None:
    claims = Claims(
        issuer="https://sso.example.go.th/realms/moi",
        role_claim="resource_access.warroom.roles",
        area_claim="attributes.area",
    )
    payload = _payload(
        resource_access={"warroom": {"roles": ["province_officer"]}}, attributes={"area": ["50"]}
    )

    assert principal_of(payload, claims) == Principal("u1", AccessRole.PROVINCE_OFFICER, "50")


@pytest.mark.parametrize(
    "claims",
    [
        {"warroom_role": "superuser"},
        {"warroom_role": "district_officer"},
        {"warroom_role": "district_officer", "warroom_area": "10"},
        {"warroom_role": "province_officer", "warroom_area": "1001"},
    ],
)
def test_tokens_without_a_known_role_and_fitting_area_are_refused(claims: dict[str, str]) -> None:
    with pytest.raises(InvalidToken):
        principal_of(_payload(**claims), Claims(issuer="x"))


def test_production_refuses_to_start_without_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        WarroomSettings(environment="production", auth_jwks_file=keys().jwks_path)

    message = str(refused.value)
    for setting in ("WARROOM_DATABASE_URL", "WARROOM_NATS_URL", "WARROOM_AUTH_JWKS_URL",
                    "WARROOM_AUTH_ISSUER"):  # fmt: skip
        assert setting in message


def test_production_starts_with_every_secret_given() -> None:
    settings = WarroomSettings(
        environment="production",
        database_url="postgresql://reporting:s3cret@db.internal:5432/warroom",
        nats_url="nats://reporting:s3cret@nats.internal:4222",
        auth_jwks_url="https://sso.example.go.th/realms/moi/protocol/openid-connect/certs",
        auth_issuer="https://sso.example.go.th/realms/moi",
        auth_jwks_file=None,
    )
    assert settings.claims().issuer == "https://sso.example.go.th/realms/moi"


def test_a_service_without_token_keys_refuses_to_start() -> None:
    settings = RegistrySettings(auth_jwks_file=None)
    with pytest.raises(RuntimeError, match="WARROOM_AUTH_JWKS_URL"):
        create_app(settings)
