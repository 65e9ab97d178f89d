"""`python -m warroom_cli`: the `warroom` command, run by the Python that runs it."""

from warroom_cli.main import app

app(prog_name="warroom")
