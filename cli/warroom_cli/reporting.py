"""Reporting commands: the outbox relay as its own process, and importing a file of reports."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Annotated, Any

import httpx
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
SHOWN = 20  # refused lines printed; the others are counted
WRITERS = "admin or district_officer"  # the roles that may send reports


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
        "participants": {s.value: _int(row.get(f"participants_{s.value}")) for s in Sector},
        "title": row["title"],
        "details": row["details"],
        "reported_by": {"name": row["reported_by_name"], "position": row["reported_by_position"]},
    }
    if row.get("subdistrict_code"):
        report["subdistrict_code"] = row["subdistrict_code"]
    for optional in ("village_no", "households"):
        if row.get(optional):
            report[optional] = _int(row[optional])
    canonical = json.dumps(report, sort_keys=True, ensure_ascii=False)
    report["report_id"] = row.get("report_id") or str(uuid.uuid5(IMPORT_NAMESPACE, canonical))
    return report


def _int(value: str | None) -> int | str:
    """A count as a number; anything else as it was written, for the service to refuse with
    its field message (`isdigit` alone would take "²" and Thai digits, which `int` fails on or
    reads as numbers)."""
    if value and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return value or 0


def read_lines(path: Path) -> tuple[list[int], list[bytes]]:
    """The file's reports as NDJSON lines, with each one's line number in the file (for a CSV
    row, its first line). A file that is not UTF-8, or a CSV without a column every report
    needs, fails at once, before anything is sent."""
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Failure(
            f"{path} is not UTF-8 text (byte {data[exc.start]:#04x} on line {line}): "
            "save it as UTF-8 (a spreadsheet's 'CSV UTF-8')"
        ) from exc
    if path.suffix.lower() == ".csv":
        return _csv_lines(path, text)
    numbered = [(n, line.rstrip(b"\r")) for n, line in enumerate(data.split(b"\n"), start=1)]
    kept = [(n, line) for n, line in numbered if line.strip()]
    return [n for n, _ in kept], [line for _, line in kept]


def _csv_lines(path: Path, text: str) -> tuple[list[int], list[bytes]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), restval="")
    missing = [column for column in CSV_NEEDED if column not in (reader.fieldnames or ())]
    if missing:
        raise Failure(
            f"{path} has no column {', '.join(missing)} (it needs the columns of "
            "GET /v1/reports.csv)"
        )
    numbers, lines = [], []
    for row in reader:
        # `line_num` is the row's last line: a quoted cell may hold line breaks
        breaks = sum(cell.count("\n") for cell in row.values() if isinstance(cell, str))
        numbers.append(reader.line_num - breaks)
        lines.append(json.dumps(csv_report(row), ensure_ascii=False).encode())
    return numbers, lines


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
    numbers, lines = read_lines(file)
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
        task = progress.add_task(f"importing {file.name}", total=len(lines))

        def send(start: int) -> tuple[int, dict[str, Any]]:
            r = post_chunk(client, b"\n".join(lines[start : start + chunk]))
            r.raise_for_status()
            return start, r.json()

        try:
            for done in as_completed([pool.submit(send, s) for s in range(0, len(lines), chunk)]):
                start, answer = done.result()
                for key in tally:
                    tally[key] += answer[key]
                refusals += [
                    (numbers[start + res["line"] - 1], refusal(res))
                    for res in answer["results"] if res["status"] in ("refused", "conflict")
                ]  # fmt: skip
                progress.advance(task, min(chunk, len(lines) - start))
        except httpx.HTTPError as exc:
            pool.shutdown(wait=False, cancel_futures=True)
            failure = http_failure(exc, "the reporting service", WRITERS)
            answered = sum(tally.values())
            if answered:
                failure = Failure(f"{failure}; {answered} of {len(lines)} reports were answered "
                                  "before: run it again, none is created twice")  # fmt: skip
            raise failure from exc
    for line, text in sorted(refusals)[:SHOWN]:
        typer.echo(f"line {line}: {text}", err=True)
    if len(refusals) > SHOWN:
        typer.echo(f"… and {len(refusals) - SHOWN} more", err=True)
    typer.echo(
        f"{file.name}: {len(lines)} reports: " + ", ".join(f"{v} {k}" for k, v in tally.items())
    )
    raise typer.Exit(1 if refusals else 0)
