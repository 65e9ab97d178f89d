"""A second nats-server for the NATS permission tests, configured as `warroom up` configures its
own: every user of `nats_users`, with passwords made for the session. The suite's other NATS
stays open (no users), so no other test has to know about them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import nats
import pytest

from warroom_cli.embedded import free_port
from warroom_cli.platform import PlatformSettings, embedded_nats


@dataclass(frozen=True)
class SecuredNats:
    urls: dict[str, str] = field(repr=False)  # user -> nats://user:password@host:port

    def url(self, user: str) -> str:
        return self.urls[user]


@pytest.fixture(scope="session")
def secured_nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredNats]:
    settings = PlatformSettings(
        data_dir=tmp_path_factory.mktemp("warroom"), embedded_nats_port=free_port()
    )
    server, urls = embedded_nats(settings)
    server.start()
    yield SecuredNats(urls)
    server.stop()


@pytest.fixture
async def secured_nats(secured_nats_server: SecuredNats) -> SecuredNats:
    """The secured server with every stream (KV buckets included) removed before the test."""
    nc = await nats.connect(secured_nats_server.url("provisioner"))
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            await js.delete_stream(info.config.name)
    finally:
        await nc.close()
    return secured_nats_server
