"""Reporting commands: the outbox relay as its own process, and importing a file of reports."""

from __future__ import annotations

import asyncio
import codecs
import csv
import gc
import io
import itertools
import json
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from pathlib import Path
from typing import IO, Annotated, Any

import httpx
import msgspec
import typer
from rich.progress import Progress

from warroom_cli import servers
from warroom_cli.auth import TokenOption, bearer
from warroom_cli.errors import Failure, http_failure
from warroom_reporting import SCHEMA
from warroom_reporting.queries import csv_text_restored
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db, messaging, nats_users
from warroom_shared.domain import Sector
from warroom_shared.logging import configure_logging
from warroom_shared.outbox import OutboxRelay

# Reports read from a CSV without a report_id get one derived from their content, so that
# importing the same file again creates no duplicates.
IMPORT_NAMESPACE = uuid.UUID("6f1f3a52-4f0e-4d55-9a3e-5c2b1d0e7a10")
RETRIES = 10  # times a chunk is sent again while the service answers 503 or 429
# The columns of `/v1/reports.csv` every report needs; the others may be left out.
CSV_NEEDED = ("programme", "district_code", "activity_date", "dimensions", "title", "details",
              "reported_by_name", "reported_by_position")  # fmt: skip
SECTOR_COLUMNS = [(s.value, f"participants_{s.value}") for s in Sector]
SHOWN = 20  # refused lines printed; the others are counted
WRITERS = "admin or district_officer"  # the roles that may send reports
BLOCK = 1 << 20  # bytes read at a time while checking that a file is UTF-8
_JSON = msgspec.json.Encoder()  # a line sent: a third of the instructions json.dumps takes


def relay() -> None:
    """Publish the reporting outbox to JetStream until stopped (run as many as you like).

    Connects as $WARROOM_NATS_URL and $WARROOM_DATABASE_URL, else as the `reporting` user of
    the embedded platform. Exit 2: could not start (a server unreachable or refusing)."""
    settings = ReportingSettings(
        nats_url=servers.nats_url(nats_users.REPORTING_USER.name),
        database_url=servers.database_url(),
    )
    configure_logging(settings.log_level, "relay")
    asyncio.run(_relay(settings))


async def _relay(settings: ReportingSettings) -> None:
    await servers.check_database(settings.database_url)
    await servers.check_nats(settings.nats_url, "warroom-relay")
    pool = await db.create_pool(
        settings.database_url, SCHEMA, timeouts=settings.database_timeouts()
    )
    nc = await messaging.connect(settings.nats_url, "warroom-relay")
    worker = OutboxRelay(pool, nc, batch_size=settings.relay_batch_size)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    try:
        await worker.run()
    finally:
        await nc.drain()
        await pool.close()


def csv_report(row: dict[str, str]) -> dict[str, Any]:
    """One CSV row (the columns of `/v1/reports.csv`). A cell the export put behind a `'`, so
    that a spreadsheet would not run it as a formula, gets its original text back."""
    row = {k: csv_text_restored(v) if isinstance(v, str) else v for k, v in row.items()}
    report: dict[str, Any] = {
        "programme": row["programme"],
        "district_code": row["district_code"],
        "activity_date": row["activity_date"],
        "dimensions": row["dimensions"].replace(",", " ").split(),
        "stages": row.get("stages", "").replace(",", " ").split(),
        "participants": {sector: _int(row.get(column)) for sector, column in SECTOR_COLUMNS},
        "title": row["title"],
        "details": row["details"],
        "reported_by": {"name": row["reported_by_name"], "position": row["reported_by_position"]},
    }
    if row.get("subdistrict_code"):
        report["subdistrict_code"] = row["subdistrict_code"]
    for optional in ("village_no", "households"):
        if row.get(optional):
            report[optional] = _int(row[optional])
    report["report_id"] = row.get("report_id") or _derived_id(report)
    return report


def _derived_id(report: dict[str, Any]) -> str:
    """The id of a report read without one: the same for the same content, in every version."""
    canonical = json.dumps(report, sort_keys=True, ensure_ascii=False)
    return str(uuid.uuid5(IMPORT_NAMESPACE, canonical))


def _int(value: str | None) -> int | str:
    """A count as a number; anything else as it was written, for the service to refuse with
    its field message (`isdigit` alone would take "²" and Thai digits, which `int` fails on or
    reads as numbers)."""
    if value and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return value or 0


# a chunk's line numbers, the service's answer to it, and the bytes of the file it came from
Answered = tuple[list[int], dict[str, Any], int]
# a chunk of the file: each report's line number (for a CSV row, its first line), its NDJSON
# line, and the bytes of the file it came from (for the progress bar)
Chunk = tuple[list[int], list[bytes], int]


def check_utf8(path: Path) -> None:
    """Fail at once, before anything is sent, when the file is not UTF-8, naming the line. Read
    a block at a time and cut after its last line break (no UTF-8 sequence holds one), so that
    memory stays flat whatever the file's size."""
    lines = 0
    with path.open("rb") as f:
        rest = f.read(BLOCK).removeprefix(codecs.BOM_UTF8)
        while rest:
            more = f.read(BLOCK)
            cut = len(rest) if not more else rest.rfind(b"\n") + 1
            try:
                rest[:cut].decode("utf-8")
            except UnicodeDecodeError as exc:
                line = lines + rest.count(b"\n", 0, exc.start) + 1
                raise Failure(
                    f"{path} is not UTF-8 text (byte {rest[exc.start]:#04x} on line {line}): "
                    "save it as UTF-8 (a spreadsheet's 'CSV UTF-8')"
                ) from exc
            lines += rest.count(b"\n", 0, cut)
            rest = rest[cut:] + more


def read_chunks(path: Path, size: int) -> Iterator[Chunk]:
    """The file's reports as NDJSON lines, `size` a chunk, read as they are sent. A file that is
    not UTF-8, or a CSV without a column every report needs, fails at once, before anything is
    sent."""
    check_utf8(path)
    with path.open("rb") as raw:
        if path.suffix.lower() == ".csv":
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            numbered = _csv_lines(path, text)
        else:
            numbered = _ndjson_lines(raw)
        done = 0
        while batch := list(itertools.islice(numbered, size)):
            now = raw.tell()
            yield [n for n, _ in batch], [line for _, line in batch], now - done
            done = now


def _ndjson_lines(raw: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(raw, start=1):
        line = line.rstrip(b"\n").rstrip(b"\r")
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        if line.strip():
            yield number, line


def _csv_lines(path: Path, text: IO[str]) -> Iterator[tuple[int, bytes]]:
    reader = csv.DictReader(text, restval="")
    missing = [column for column in CSV_NEEDED if column not in (reader.fieldnames or ())]
    if missing:
        raise Failure(
            f"{path} has no column {', '.join(missing)} (it needs the columns of "
            "GET /v1/reports.csv)"
        )
    return _csv_rows(reader)


def _csv_rows(reader: csv.DictReader[str]) -> Iterator[tuple[int, bytes]]:
    for row in reader:
        # `line_num` is the row's last line: a quoted cell may hold line breaks
        breaks = sum(cell.count("\n") for cell in row.values() if isinstance(cell, str))
        yield reader.line_num - breaks, _JSON.encode(csv_report(row))


def post_chunk(client: httpx.Client, body: bytes) -> httpx.Response:
    """POST one chunk; while the service answers 503 (busy, or its database away a moment) or
    429, again after its Retry-After, up to RETRIES times: the same ids make a resend safe."""
    ndjson = {"Content-Type": "application/x-ndjson"}
    r = client.post("/v1/reports:bulk", content=body, headers=ndjson)
    for _ in range(RETRIES):
        if r.status_code not in (429, 503):
            break
        wait = _retry_after(r)
        typer.echo(f"{r.status_code} {_code(r)}: sending the chunk again in {wait} s", err=True)
        time.sleep(wait)
        r = client.post("/v1/reports:bulk", content=body, headers=ndjson)
    return r


def _retry_after(r: httpx.Response) -> int:
    value = r.headers.get("Retry-After", "")
    return min(int(value), 60) if value.isascii() and value.isdigit() else 1


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "busy"


def refusal(result: dict[str, Any]) -> str:
    """Why the service did not take a line: each field and its message."""
    if result["status"] == "conflict":
        return f"report_id: {result.get('report_id')} was sent before with other content"
    fields = result.get("fields") or [{"field": "report", "message": "refused"}]
    return "; ".join(f"{field['field']}: {field['message']}" for field in fields)


def import_file(
    file: Annotated[Path, typer.Argument(help="NDJSON, or CSV with the columns of the export")],
    url: Annotated[str, typer.Option(help="The reporting service")] = "http://127.0.0.1:8002",
    chunk: Annotated[int, typer.Option(min=1, max=10_000, help="Lines a request")] = 2000,
    parallel: Annotated[
        int, typer.Option(min=1, max=16, help="Requests in flight (replicas share them)")
    ] = 4,
    token: TokenOption = None,
) -> None:
    """Send a file of reports in chunks; rerunning it creates no duplicates.

    A CSV has the columns of `GET /v1/reports.csv` (its export imports as it is). Prints each
    refused report as `line 12: participants.people: Input should be a valid integer` (the
    line of the file; the first 20, then how many more), then a summary. The token needs the
    role admin or district_officer.

    Exit 0: every report created or already there; 1: some refused (or sent before with other
    content); 2: could not run (the file unreadable or not UTF-8, a column missing, the service
    unreachable, the token refused)."""
    headers = bearer(token)
    tally = {"created": 0, "duplicate": 0, "conflict": 0, "refused": 0}
    refusals: list[tuple[int, str]] = []
    with (
        httpx.Client(
            base_url=url, timeout=120, headers=headers,
            limits=httpx.Limits(max_connections=parallel),
        ) as client,
        ThreadPoolExecutor(parallel) as pool,
        Progress() as progress,
    ):  # fmt: skip
        task = progress.add_task(f"importing {file.name}", total=file.stat().st_size)

        def send(numbers: list[int], lines: list[bytes], size: int) -> Answered:
            r = post_chunk(client, b"\n".join(lines))
            r.raise_for_status()
            return numbers, r.json(), size

        def answered(future: Future[Answered]) -> None:
            numbers, answer, size = future.result()
            for key in tally:
                tally[key] += answer[key]
            refusals.extend(
                (numbers[res["line"] - 1], refusal(res))
                for res in answer["results"] if res["status"] in ("refused", "conflict")
            )  # fmt: skip
            progress.advance(task, size)
            # httpx keeps a response in a reference cycle with its request, and so with the
            # chunk's body, until a full collection: make one, or every body sent is kept.
            gc.collect()

        # Chunks are read and converted while the ones before them are sent, at most
        # `parallel` in flight: sending starts at once and memory stays flat.
        sending: set[Future[Answered]] = set()
        try:
            for chunk_of_file in read_chunks(file, chunk):
                if len(sending) >= parallel:
                    done, sending = wait(sending, return_when=FIRST_COMPLETED)
                    for future in done:
                        answered(future)
                sending.add(pool.submit(send, *chunk_of_file))
            for future in as_completed(sending):
                answered(future)
        except httpx.HTTPError as exc:
            pool.shutdown(wait=False, cancel_futures=True)
            failure = http_failure(exc, "the reporting service", WRITERS)
            if total := sum(tally.values()):
                failure = Failure(f"{failure}; {total} reports were answered before: run it "
                                  "again, none is created twice")  # fmt: skip
            raise failure from exc
    for line, text in sorted(refusals)[:SHOWN]:
        typer.echo(f"line {line}: {text}", err=True)
    if len(refusals) > SHOWN:
        typer.echo(f"… and {len(refusals) - SHOWN} more", err=True)
    typer.echo(
        f"{file.name}: {sum(tally.values())} reports: "
        + ", ".join(f"{v} {k}" for k, v in tally.items())
    )
    raise typer.Exit(1 if refusals else 0)
