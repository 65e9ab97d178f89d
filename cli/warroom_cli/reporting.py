"""Reporting commands: the outbox relay as its own process, and importing a file of reports."""

from __future__ import annotations

import asyncio
import csv
import json
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.progress import Progress

from warroom_cli.auth import TokenOption, bearer
from warroom_reporting import SCHEMA
from warroom_reporting.queries import csv_text_restored
from warroom_reporting.settings import ReportingSettings
from warroom_shared import db, messaging
from warroom_shared.domain import Sector
from warroom_shared.logging import configure_logging
from warroom_shared.outbox import OutboxRelay

# Reports read from a CSV without a report_id get one derived from their content, so that
# importing the same file again creates no duplicates.
IMPORT_NAMESPACE = uuid.UUID("6f1f3a52-4f0e-4d55-9a3e-5c2b1d0e7a10")
RETRIES = 10  # times a chunk is sent again while the service answers 503 or 429


def relay() -> None:
    """Publish the reporting outbox to JetStream until stopped (run as many as you like)."""
    settings = ReportingSettings()
    configure_logging(settings.log_level, "relay")
    asyncio.run(_relay(settings))


async def _relay(settings: ReportingSettings) -> None:
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


def ndjson_lines(path: Path) -> Iterator[bytes]:
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                yield json.dumps(csv_report(row), ensure_ascii=False).encode()
        return
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                yield line.rstrip(b"\r\n")


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


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON or CSV")],
    url: Annotated[str, typer.Option(help="The reporting service")] = "http://127.0.0.1:8002",
    chunk: Annotated[int, typer.Option(min=1, max=10_000, help="Lines a request")] = 2000,
    parallel: Annotated[
        int, typer.Option(min=1, max=16, help="Requests in flight (replicas share them)")
    ] = 4,
    token: TokenOption = None,
) -> None:
    """Send a file of reports in chunks; rerunning it creates no duplicates."""
    tally = {"created": 0, "duplicate": 0, "conflict": 0, "refused": 0}
    refusals: list[tuple[int, str]] = []
    lines = list(ndjson_lines(file))
    headers = bearer(token)
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

        for done in as_completed([pool.submit(send, s) for s in range(0, len(lines), chunk)]):
            start, answer = done.result()
            for key in tally:
                tally[key] += answer[key]
            refusals += [
                (start + res["line"], f"{res['status']} {res.get('fields', '')}")
                for res in answer["results"] if res["status"] in ("refused", "conflict")
            ]  # fmt: skip
            progress.advance(task, min(chunk, len(lines) - start))
    for line, refusal in sorted(refusals)[:50]:
        typer.echo(f"line {line}: {refusal}", err=True)
    typer.echo(", ".join(f"{v} {k}" for k, v in tally.items()))
    raise typer.Exit(1 if refusals else 0)
