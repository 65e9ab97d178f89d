"""`warroom aggregator rebuild` and `warroom reconcile`: operating the aggregator's totals."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import typer

from warroom_aggregator import rebuild as rebuilding
from warroom_aggregator import reconcile as reconciling
from warroom_aggregator.settings import AggregatorSettings
from warroom_cli.auth import TokenOption, bearer

app = typer.Typer(no_args_is_help=True, help="Operate the aggregator's totals.")


@app.command()
def rebuild() -> None:
    """Replay the REPORTS stream into fresh totals and swap them in; queries keep answering."""
    shown = 0

    async def progress(seq: int, target: int) -> None:
        nonlocal shown
        if seq - shown >= 100_000 or seq >= target:  # a line per 100k messages, not per batch
            shown = seq
            typer.echo(f"replayed up to message {seq} of {target}")

    counted = asyncio.run(rebuilding.rebuild(AggregatorSettings(), progress))
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
    token: TokenOption = None,
) -> None:
    """Compare a quarter's totals with the reporting service's counts; exit 1 on a difference.

    Lists every difference: district, programme, figure, and both values."""
    settings = AggregatorSettings()
    url = reporting_url or settings.reporting_url

    async def run() -> list[reconciling.Difference]:
        async with httpx.AsyncClient(timeout=30.0, headers=bearer(token)) as client:
            return await reconciling.reconcile(settings, fiscal_year, quarter, url, client)

    try:
        differences = asyncio.run(run())
    except httpx.HTTPError as exc:
        typer.echo(f"could not read the reporting service's counts at {url}: {exc}", err=True)
        raise typer.Exit(2) from exc
    for difference in differences:
        typer.echo(str(difference))
    if differences:
        typer.echo(f"FY{fiscal_year} Q{quarter}: {len(differences)} differences", err=True)
        raise typer.Exit(1)
    typer.echo(f"FY{fiscal_year} Q{quarter}: the totals match the reporting service")
