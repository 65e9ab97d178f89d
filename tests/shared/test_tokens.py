"""Keys from an identity provider's JWKS URL, served over real HTTP: rotation is followed both
ways (new keys trusted, removed keys refused), and made-up key ids do not make the services fetch
the keys again and again."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from warroom_shared.security.principal import AccessRole, Principal
from warroom_shared.security.tokens import (
    DEV_ISSUER,
    Claims,
    DevKeys,
    InvalidToken,
    KeySet,
    TokenVerifier,
)
from warroom_shared.settings import WarroomSettings


class Provider:
    """A JWKS endpoint that serves the keys of whichever `DevKeys` it is given, and counts."""

    def __init__(self) -> None:
        self.keys: list[DevKeys] = []
        self.fetches = 0
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                listed = [json.loads(d.jwks_path.read_text())["keys"] for d in provider.keys]
                body = json.dumps({"keys": [k for keys in listed for k in keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/certs"


@pytest.fixture
def provider() -> Iterator[Provider]:
    served = Provider()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


async def _principal(keys: KeySet, token: str) -> Principal:
    return await TokenVerifier(keys, Claims(DEV_ISSUER)).principal(token)


async def test_keys_from_a_jwks_url_follow_the_providers_rotation(
    provider: Provider, tmp_path: Path
) -> None:
    old, new = DevKeys(tmp_path / "old").ensure(), DevKeys(tmp_path / "new").ensure()
    provider.keys = [old]
    keys = KeySet(url=provider.url, cooldown=0)

    before = await _principal(keys, old.mint(AccessRole.MONITOR, subject="m"))
    provider.keys = [old, new]  # the provider rotates: a new key, the old one still listed
    after = await _principal(keys, new.mint(AccessRole.PROVINCE_OFFICER, "50", subject="p"))

    assert before == Principal("m", AccessRole.MONITOR)
    assert after == Principal("p", AccessRole.PROVINCE_OFFICER, "50")


async def test_unknown_key_ids_are_refused_without_fetching_the_keys_each_time(
    provider: Provider, tmp_path: Path
) -> None:
    known, stranger = DevKeys(tmp_path / "known").ensure(), DevKeys(tmp_path / "x").ensure()
    provider.keys = [known]
    keys = KeySet(url=provider.url, cooldown=30)
    await _principal(keys, known.mint(AccessRole.ADMIN))
    fetched = provider.fetches

    for _ in range(20):
        with pytest.raises(InvalidToken):
            await _principal(keys, stranger.mint(AccessRole.ADMIN))

    assert fetched >= 1
    assert provider.fetches == fetched  # within the cooldown: no fetch per made-up kid


async def test_keys_the_provider_removed_are_refused_within_the_refresh_interval(
    provider: Provider, tmp_path: Path
) -> None:
    compromised, kept = DevKeys(tmp_path / "gone").ensure(), DevKeys(tmp_path / "kept").ensure()
    provider.keys = [compromised, kept]
    settings = WarroomSettings(
        auth_jwks_url=provider.url, auth_jwks_file=None, auth_jwks_refresh=0.2
    )
    verifier = TokenVerifier(settings.key_set(), Claims(DEV_ISSUER))
    stolen = compromised.mint(AccessRole.ADMIN, subject="thief")
    good = kept.mint(AccessRole.MONITOR, subject="m")
    assert await verifier.principal(stolen) == Principal("thief", AccessRole.ADMIN)  # remembered
    assert await verifier.principal(good) == Principal("m", AccessRole.MONITOR)

    provider.keys = [kept]  # the provider drops the compromised key
    async with asyncio.timeout(5):  # well within: the interval is 0.2 s
        while await _accepted(verifier, stolen):
            await asyncio.sleep(0.05)

    with pytest.raises(InvalidToken, match="unknown key id"):
        await verifier.principal(stolen)
    assert await verifier.principal(good) == Principal("m", AccessRole.MONITOR)


async def test_keys_in_hand_stay_while_the_provider_cannot_be_reached(
    provider: Provider, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    signer = DevKeys(tmp_path / "k").ensure()
    provider.keys = [signer]
    keys = KeySet(url=provider.url, refresh=0, cooldown=0)  # every check fetches the keys
    first = await _principal(keys, signer.mint(AccessRole.MONITOR, subject="m"))
    provider.server.shutdown()  # the provider goes down: the keys fetched before stay trusted
    provider.server.server_close()

    again = await _principal(keys, signer.mint(AccessRole.MONITOR, subject="m"))

    assert first == again == Principal("m", AccessRole.MONITOR)
    assert "the JWKS could not be fetched" in caplog.text


async def _accepted(verifier: TokenVerifier, token: str) -> bool:
    try:
        await verifier.principal(token)
    except InvalidToken:
        return False
    return True
