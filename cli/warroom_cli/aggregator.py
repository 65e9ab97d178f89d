"""`warroom aggregator rebuild` and `warroom reconcile`: operating the aggregator's totals."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import httpx
import typer

from warroom_aggregator import rebuild as rebuilding
from warroom_aggregator import reconcile as reconciling
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli import servers
from warroom_cli.auth import TokenOption, bearer
from warroom_cli.errors import ExplainingGroup, Failure, explain, http_failure
from warroom_shared import nats_users

app = typer.Typer(
    no_args_is_help=True, help="Operate the aggregator's totals.", cls=ExplainingGroup
)
USER = nats_users.AGGREGATOR_USER.name  # the NATS user of both commands on the embedded default
READERS = "admin or monitor"  # the roles the reporting service lets read its counts and outbox


def settings() -> AggregatorSettings:
    """The aggregator's settings, as the `aggregator` NATS user on the embedded default."""
    return AggregatorSettings(nats_url=servers.nats_url(USER), database_url=servers.database_url())


@app.command()
def rebuild() -> None:
    """Replay the REPORTS stream into fresh totals (with stages, months, days received and
    villages) and swap them in; queries keep answering; deadlines are kept.

    Connects as $WARROOM_NATS_URL and $WARROOM_DATABASE_URL, else as the `aggregator` user of
    the embedded platform. Exit 0: rebuilt; 2: could not run (a server unreachable or refusing)."""
    config = settings()
    shown = 0

    async def progress(seq: int, target: int) -> None:
        nonlocal shown
        if seq - shown >= 100_000 or seq >= target:  # a line per 100k messages, not per batch
            shown = seq
            typer.echo(f"replayed up to message {seq} of {target}")

    async def run() -> int:
        await servers.check_database(config.database_url)
        await servers.check_nats(config.nats_url, "warroom-aggregator-rebuild")
        return await rebuilding.rebuild(config, progress)

    counted = asyncio.run(run())
    typer.echo(f"totals rebuilt: {counted} events counted")


def reconcile(
    fiscal_year: Annotated[int, typer.Option(min=2560, max=2700, help="Buddhist Era")],
    quarter: Annotated[int, typer.Option(min=1, max=4)],
    reporting_url: Annotated[
        str | None,
        typer.Option(
            help="Reporting service base URL (default: $WARROOM_REPORTING_URL, else :8002)"
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(min=0, help="Seconds to wait for reports in flight to be counted"),
    ] = 60.0,
    token: TokenOption = None,
) -> None:
    """Compare a quarter's totals with the reporting service's counts, once nothing is in flight.

    Waits (at most --wait seconds) until the reporting outbox is empty and the aggregator has
    counted every event, then compares twice; lists every difference: district, programme,
    figure (reports, households, a sector, stage:<stage>, month:<1-12>), and both values.
    Connects as $WARROOM_NATS_URL and $WARROOM_DATABASE_URL, else as the `aggregator` user of
    the embedded platform; the token needs the role admin or monitor.

    Exit 0: equal; 1: a real difference; 2: could not compare (a service unreachable, a token
    refused); 3: reports still in flight after --wait (differences may be lag)."""
    config = settings()
    url = reporting_url or config.reporting_url
    try:
        result = asyncio.run(_reconcile(config, fiscal_year, quarter, url, wait, token))
    except Exception as exc:  # any failure means "could not compare": exit 2
        reason = (
            http_failure(exc, "the reporting service", READERS)
            if isinstance(exc, httpx.HTTPError)
            else explain(exc)
        )
        raise Failure(f"could not compare: {reason}") from exc
    period = f"FY{fiscal_year} Q{quarter}"
    if not result.settled:
        for difference in result.differences:
            typer.echo(f"in flight? {difference}")
        typer.echo(
            f"{period}: not settled after {result.waited:.1f} s: {result.backlog}; "
            f"{len(result.differences)} differences may be only reports in flight, not "
            "mismatches: run it again later or with a longer --wait",
            err=True,
        )
        raise typer.Exit(3)
    for difference in result.differences:
        typer.echo(str(difference))
    waited = f"after waiting {result.waited:.1f} s for reports in flight to be counted"
    if result.differences:
        typer.echo(
            f"{period}: {len(result.differences)} differences, the same in two comparisons "
            f"with nothing in flight ({waited})",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"{period}: the totals match the reporting service, nothing in flight ({waited})")


async def _reconcile(
    settings: AggregatorSettings,
    fiscal_year: int,
    quarter: int,
    url: str,
    wait: float,
    token: str | None,
) -> reconciling.Result:
    shown = 0.0

    async def waiting(backlog: reconciling.Backlog) -> None:
        nonlocal shown
        if time.monotonic() - shown >= 5:  # a line every 5 s, not every look
            shown = time.monotonic()
            typer.echo(f"waiting for reports in flight: {backlog}")

    await servers.check_database(settings.database_url)
    nc = await servers.connect_nats(settings.nats_url, "warroom-reconcile")
    try:
        async with httpx.AsyncClient(timeout=30.0, headers=bearer(token)) as client:
            return await reconciling.reconcile(
                settings, fiscal_year, quarter, url, client, nc.jetstream(), wait, waiting
            )
    finally:
        await nc.close()
