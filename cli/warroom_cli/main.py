"""`warroom`: run and operate the CAST War Room platform."""

from __future__ import annotations

import typer

from warroom_cli import aggregator, auth, platform, reporting

app = typer.Typer(no_args_is_help=True, help=__doc__)


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
