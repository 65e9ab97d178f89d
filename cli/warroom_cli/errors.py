"""One clear line on stderr for a failure a command can foresee, and a non-zero exit, never a
traceback (unless `warroom --verbose`).

Every command runs inside `ExplainingGroup`, which turns what it raises into a `Failure`: the
command's own (it knows which service, file or role is meant), else a message made from the
exception's type (`explain`). Foreseen failures exit 2 ("could not run"); anything else exits 1
with its type and message.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import asyncpg
import httpx
import nats.errors
import typer
from typer.core import TyperGroup

START = "is the platform running (`make run`)?"
COULD_NOT_RUN = 2


class Failure(Exception):
    """What a command could not do, said in one line, and its exit code."""

    def __init__(self, message: str, code: int = COULD_NOT_RUN) -> None:
        super().__init__(message)
        self.code = code


# Permission violations the server reported on a command's NATS connection: nats-py tells only
# the error callback, and the refused request then times out.
nats_violations: list[str] = []


async def on_nats_error(exc: Exception) -> None:
    """A command's NATS error callback: silent (nats-py's default logs a traceback), keeping
    permission violations to explain the timeout that follows."""
    if "permissions violation" in str(exc).lower():
        nats_violations.append(str(exc).removeprefix("nats: "))


def http_failure(exc: httpx.HTTPError, service: str | None = None, roles: str = "") -> Failure:
    """An HTTP failure; `service` names what was called, `roles` the token roles it takes."""
    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:  # an error raised outside a request
        request = None
    origin = f"{request.url.scheme}://{request.url.netloc.decode()}" if request else "the service"
    where = f"{service} at {origin}" if service else origin
    if isinstance(exc, httpx.ConnectError):
        return Failure(f"cannot reach {where} ({_reason(exc)}): {START}")
    if isinstance(exc, httpx.TimeoutException):
        return Failure(f"{where} did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.HTTPStatusError) and request is not None:
        status, detail = exc.response.status_code, _problem(exc.response)
        call = f"{request.method} {request.url.path}"
        if status == 401:
            return Failure(
                f"{where} refused the token ({status} {detail}): give a valid one with --token "
                "or $WARROOM_TOKEN (`warroom token --role admin` on the embedded platform)"
            )
        if status == 403:
            needs = (
                f"{call} needs a token of role {roles}" if roles else f"{call} needs another role"
            )
            return Failure(f"{where} refused the token ({status} {detail}): {needs}")
        return Failure(f"{where} answered {call} with {status} {detail}")
    return Failure(f"{where}: {type(exc).__name__}: {exc}")


def _reason(exc: BaseException) -> str:
    """The system's reason (`Connection refused`) from the chain of causes, else the message."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno)
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


def _problem(response: httpx.Response) -> str:
    """A Problem answer's code and detail, else the reason phrase."""
    try:
        error = response.json()["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase


def nats_failure(exc: BaseException, where: str = "NATS") -> Failure:
    text = str(exc)
    if "authorization violation" in text.lower():
        return Failure(f"{where} refused the user and password (Authorization Violation)")
    if isinstance(exc, nats.errors.TimeoutError | nats.errors.NoRespondersError):
        refused = f": {nats_violations[-1]}" if nats_violations else ""
        return Failure(f"{where} did not answer a request in time{refused}")
    if isinstance(exc, nats.errors.NoServersError | OSError):
        return Failure(f"cannot reach {where}: {START}")
    return Failure(f"{where}: {text or type(exc).__name__}")


def explain(exc: BaseException) -> Failure:
    """The one line for an exception no command explained itself."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, httpx.HTTPError):
        return http_failure(exc)
    if isinstance(exc, nats.errors.Error):
        return nats_failure(exc)
    if isinstance(exc, UnicodeDecodeError):
        return Failure(f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at {exc.start})")
    if isinstance(exc, asyncpg.PostgresError):
        return Failure(f"the database refused: {type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError):
        return Failure("timed out waiting for a server")
    if isinstance(exc, OSError) and exc.filename is not None:
        return Failure(f"cannot read {exc.filename}: {exc.strerror}")
    if isinstance(exc, OSError):
        return Failure(f"cannot connect: {exc.strerror or exc}: {START}")
    return Failure(f"unexpected {type(exc).__name__}: {exc} (--verbose shows where)", 1)


class ExplainingGroup(TyperGroup):
    """A typer group whose commands end a failure with one line (and, with `--verbose` on the
    root command, its traceback)."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context, which it does not export
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise  # usage errors and exits: typer's own way
        except Exception as exc:  # noqa: BLE001 - every other failure gets its one line
            failure = explain(exc)
            if ctx.find_root().params.get("verbose"):
                traceback.print_exception(exc)
            line = " ".join(f"{ctx.command_path} {ctx.invoked_subcommand}: {failure}".split())
            typer.echo(line, err=True)
            raise typer.Exit(failure.code) from None
