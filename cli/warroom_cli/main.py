"""`warroom`: run and operate the CAST War Room platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warroom_cli import aggregator, auth, demo, platform, reporting, tail
from warroom_cli.errors import ExplainingGroup

app = typer.Typer(no_args_is_help=True, help=__doc__, cls=ExplainingGroup)


@app.callback()
def options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="On a failure, show the traceback too")
    ] = False,
) -> None:
    # Read by `ExplainingGroup` when a command fails.
    pass


@app.command()
def up() -> None:
    """Run the whole platform on this machine (embedded NATS and PostgreSQL unless given by URL)."""
    raise typer.Exit(platform.up())


@app.command()
def migrate() -> None:
    """Run every service's migrations and load reference data against the configured servers."""
    platform.prepare_all()


app.command()(auth.token)
app.command()(reporting.relay)
app.command("import")(reporting.import_file)
app.add_typer(aggregator.app, name="aggregator")
app.command()(aggregator.reconcile)
app.command()(tail.tail)
app.command()(demo.demo)


@app.command()
def asyncapi(
    output: Annotated[Path, typer.Option(help="Where to write it")] = Path("docs/asyncapi.json"),
    check: Annotated[
        bool, typer.Option(help="Only compare: exit 1 if the file differs from the models")
    ] = False,
) -> None:
    """Write the AsyncAPI 3.0 document of every NATS subject and event, from the event models."""
    from warroom_shared import asyncapi as document

    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != document.text():
            typer.echo(f"{output} differs from the event models: run `warroom asyncapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} matches the event models")
        return
    document.write(output)
    typer.echo(f"wrote {output}")
