"""Keys from an identity provider's JWKS URL, served over real HTTP: rotation is followed, and
made-up key ids do not make the services fetch the keys again and again."""

from __future__ import annotations

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
