"""Callers' addresses through a real proxy hop: a service under uvicorn, trusting forwarded
addresses as docker-compose.yml says (its own network, here the proxy's loopback address), behind
a small HTTP proxy that sets X-Forwarded-For exactly as deploy/compose/nginx.conf does. A caller
that writes its own X-Forwarded-For still lands in its own rate-limit bucket."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
import yaml
from fastapi import FastAPI

from warroom_shared.service import service_app
from warroom_shared.settings import WarroomSettings

from .conftest import ROOT, nginx_proxy_header

PROXY_HOST = "127.0.0.2"  # the address the proxy connects to the service from
CALLER, OTHER_CALLER = "127.0.0.3", "127.0.0.4"
SPENT = "3/minute"


def compose_trust() -> str:
    """FORWARDED_ALLOW_IPS as in docker-compose.yml: the compose network becomes the proxy's
    address here (the only proxy in that network); a `*` stays `*`."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    trusted: str = compose["x-env"]["FORWARDED_ALLOW_IPS"]
    return trusted if trusted == "*" else PROXY_HOST


class Proxy:
    """One request per connection, its X-Forwarded-For set as nginx's `proxy_set_header`
    would with `$remote_addr` or `$proxy_add_x_forwarded_for`."""

    def __init__(self, upstream: tuple[str, int], directive: str) -> None:
        assert directive in ("$remote_addr", "$proxy_add_x_forwarded_for"), directive
        self.upstream, self.directive = upstream, directive

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.removesuffix("\r\n\r\n").split("\r\n")
        sent = [line.split(":", 1)[1].strip() for line in lines if _named(line, "x-forwarded-for")]
        caller = writer.get_extra_info("peername")[0]
        forwarded = caller if self.directive == "$remote_addr" else ", ".join([*sent, caller])
        kept = [line for line in lines if not _named(line, "x-forwarded-for", "connection")]
        out = [request_line, *kept, f"X-Forwarded-For: {forwarded}", "Connection: close"]
        up_reader, up_writer = await asyncio.open_connection(
            *self.upstream, local_addr=(PROXY_HOST, 0)
        )
        up_writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        writer.write(await up_reader.read())  # the answer, until the service closes
        await writer.drain()
        for w in (up_writer, writer):
            w.close()
            await w.wait_closed()


def _named(line: str, *names: str) -> bool:
    return line.split(":", 1)[0].strip().lower() in names


@contextlib.asynccontextmanager
async def service(trust: str) -> AsyncIterator[tuple[str, int]]:
    """A service app (the platform's own health, metrics and access rules) under uvicorn."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = service_app("proxied", "", lifespan, WarroomSettings(rate_limit=SPENT), [])
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, lifespan="on", ws="none", log_config=None, proxy_headers=True,
        forwarded_allow_ips=trust, timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[:2]
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def proxy_url() -> AsyncIterator[str]:
    async with service(compose_trust()) as upstream:
        proxy = Proxy(upstream, nginx_proxy_header("X-Forwarded-For"))
        server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
        async with server:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def _calls(url: str, caller: str, forged: list[str | None]) -> list[int]:
    """One call per item from `caller`'s address, with a bad token (those count against the
    address) and the X-Forwarded-For the caller writes itself (None: none)."""
    transport = httpx.AsyncHTTPTransport(local_address=caller)
    codes = []
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=10) as client:
        for written in forged:
            headers = {"Authorization": "Bearer forged"}
            if written is not None:
                headers["X-Forwarded-For"] = written
            codes.append((await client.get("/metrics", headers=headers)).status_code)
    return codes


async def test_a_caller_cannot_pick_its_rate_limit_bucket_by_writing_x_forwarded_for(
    proxy_url: str,
) -> None:
    written = ["203.0.113.1", "203.0.113.2", f"{OTHER_CALLER}, 203.0.113.3", PROXY_HOST]
    mine = await _calls(proxy_url, CALLER, written)
    theirs = await _calls(proxy_url, OTHER_CALLER, [None])

    assert mine == [401, 401, 401, 429]  # one bucket, whatever the caller wrote
    assert theirs == [401]  # and not the proxy's bucket for everyone: callers are told apart
