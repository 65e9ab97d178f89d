"""Each service scaled on one machine: 2 reporting, 2 relay and 3 aggregator processes on one
NATS and one PostgreSQL. 20,000 reports from concurrent clients; halfway through, one aggregator
and one relay are killed with SIGKILL. The totals still equal the accepted reports exactly."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
from typing import Any

import asyncpg
import httpx
import nats

import warroom_aggregator.prepare
import warroom_reporting.prepare
from tests.utils.auth import bearer
from tests.utils.factories import report
from tests.utils.processes import service_env, service_process, warroom
from warroom_aggregator import topology
from warroom_aggregator.settings import AggregatorSettings
from warroom_reporting.settings import ReportingSettings
from warroom_shared.domain import Sector

REPORTS = 20_000
CLIENTS = 32
ACK_WAIT = 3  # seconds: a killed aggregator's batch comes back to the others this soon


def _bodies() -> list[dict[str, Any]]:
    districts = [("1201", "120101"), ("1202", "120201"), ("5001", "500101")]
    return [
        report(
            district_code=districts[i % 3][0],
            subdistrict_code=districts[i % 3][1],
            participants={s.value: (i + n) % 9 for n, s in enumerate(Sector)},
            households=i % 13,
        )
        for i in range(REPORTS)
    ]


async def _post_all(
    urls: list[str], bodies: list[dict[str, Any]], halfway: asyncio.Event
) -> list[dict[str, Any]]:
    """Every report from CLIENTS concurrent clients, over both reporting processes."""
    accepted: list[dict[str, Any]] = []
    queue = iter(enumerate(bodies))
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, headers=bearer(), timeout=60)
            )
            for url in urls
        ]

        async def client(n: int) -> None:
            for i, body in queue:
                answer = await _post(clients[n % len(clients)], body)
                assert answer.status_code in (200, 201), answer.text
                accepted.append(body)
                if i == len(bodies) // 2:
                    halfway.set()

        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return accepted


async def _post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    """As a front end posts: a connection lost on the way is retried with the same report_id,
    which is safe (200 then means an earlier attempt got through)."""
    for _ in range(5):
        with contextlib.suppress(httpx.TransportError):
            return await client.post("/v1/reports", json=body)
    return await client.post("/v1/reports", json=body)


async def _kill_at(halfway: asyncio.Event, *procs: Any) -> None:
    await halfway.wait()
    for proc in procs:
        proc.send_signal(signal.SIGKILL)


async def _totals(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, headers=bearer()) as client:
        answer = await client.get("/v1/totals", params={"scope": "national"})
        return answer.json() if answer.status_code == 200 else {}


async def _settled(nats_url: str, database_url: str) -> None:
    """Until nothing can come again: the outbox is empty and the aggregators' consumer has no
    message left to deliver or waiting for its ack (the killed one's batch included)."""
    nc = await nats.connect(nats_url)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "reporting"})
    try:
        async with asyncio.timeout(60):
            while True:
                info = await nc.jetstream().consumer_info(topology.REPORTS, topology.CONSUMER)
                outbox = await conn.fetchval("SELECT count(*) FROM outbox")
                if (info.num_pending, info.num_ack_pending, outbox) == (0, 0, 0):
                    return
                await asyncio.sleep(0.1)
    finally:
        await conn.close()
        await nc.close()


async def test_killed_aggregator_and_relay_leave_totals_exact(
    reporting_settings: ReportingSettings,
) -> None:
    database_url, nats_url = reporting_settings.database_url, reporting_settings.nats_url
    await warroom_reporting.prepare.prepare(reporting_settings)
    await warroom_aggregator.prepare.prepare(
        AggregatorSettings(database_url=database_url, nats_url=nats_url, ack_wait=ACK_WAIT)
    )
    env = service_env(database_url, nats_url, WARROOM_ACK_WAIT=str(ACK_WAIT),
                      WARROOM_RELAY_ENABLED="false", WARROOM_LOG_LEVEL="ERROR")  # fmt: skip
    bodies = _bodies()
    halfway = asyncio.Event()
    with contextlib.ExitStack() as stack:
        reporting = [
            stack.enter_context(service_process("warroom_reporting.app:create_app", env))[0]
            for _ in range(2)
        ]
        relays = [stack.enter_context(warroom("relay", env=env)) for _ in range(2)]
        aggregators = [
            stack.enter_context(service_process("warroom_aggregator.app:create_app", env))
            for _ in range(3)
        ]
        killer = asyncio.create_task(_kill_at(halfway, aggregators[0][1], relays[0]))
        accepted = await _post_all(reporting, bodies, halfway)
        await killer

        want = {
            "reports": len(accepted),
            "households": sum(b["households"] for b in accepted),
            "participants": {
                s.value: sum(b["participants"][s.value] for b in accepted) for s in Sector
            },
        }
        survivor = aggregators[1][0]
        got: dict[str, Any] = {}
        async with asyncio.timeout(180):
            for _ in itertools.count():
                got = await _totals(survivor)
                if got.get("reports") == want["reports"]:
                    break
                await asyncio.sleep(0.5)
        await _settled(nats_url, database_url)  # a late redelivery must not count twice
        settled = await _totals(aggregators[2][0])

    assert len(accepted) == REPORTS
    assert aggregators[0][1].returncode == -signal.SIGKILL
    assert relays[0].returncode == -signal.SIGKILL
    for figures in (got, settled):
        assert {k: figures[k] for k in want} == want
