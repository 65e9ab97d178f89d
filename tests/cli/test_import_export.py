"""`warroom import`: an import of a CSV export gives back the reports as they were sent, text
that the export put behind a quote (so that a spreadsheet would not run it as a formula)
included; a chunk the service answers 503 is sent again; refused lines are named by their line
in the file; a file it cannot use or a token the service refuses stops it in one line (exit 2)."""

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx

from tests.cli.helpers import failure_line, run
from tests.utils.auth import bearer, token
from tests.utils.factories import report
from tests.utils.processes import service_env
from warroom_cli.embedded import free_port, serving
from warroom_cli.reporting import CSV_NEEDED
from warroom_reporting import SCHEMA
from warroom_reporting.settings import ReportingSettings
from warroom_shared.security.principal import AccessRole

WARROOM = os.path.join(os.path.dirname(sys.executable), "warroom")
TEXTS = ["=HYPERLINK(\"http://x.example\",\"คลิก\")", "+66 2 123 4567", "-ลดราคา", "@ผู้ใหญ่บ้าน",
         "'=quoted already", "'ธรรมดา", "ประปา = น้ำ"]  # fmt: skip


async def test_import_of_export_gives_back_the_original_text(
    reporting_settings: ReportingSettings, tmp_path: Path
) -> None:
    env = service_env(reporting_settings.database_url, reporting_settings.nats_url)
    bodies = [report(title=t, details=f"{t} รายละเอียด", households=None) for t in TEXTS]
    with serving("warroom_reporting.app:create_app", env) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(), timeout=30) as client:
            async with asyncio.timeout(15):
                while (await client.post("/v1/reports", json=bodies[0])).status_code == 503:
                    await asyncio.sleep(0.1)  # the directory is still loading
            for body in bodies[1:]:
                assert (await client.post("/v1/reports", json=body)).status_code == 201
            sheet = (await client.get("/v1/reports.csv")).content
        exported = tmp_path / "reports.csv"
        exported.write_bytes(sheet)
        rows = list(csv.DictReader(io.StringIO(sheet.decode("utf-8-sig"))))
        assert {r["title"] for r in rows} == {"'" + t for t in TEXTS[:5]} | set(TEXTS[5:])
        done = subprocess.run(
            [WARROOM, "import", str(exported), "--url", url], env=env, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
    # The same ids with the same content: each report is a resend of the original, not a
    # conflict, so every text came back exactly.
    assert done.returncode == 0, done.stderr
    assert f"0 created, {len(TEXTS)} duplicate, 0 conflict, 0 refused" in done.stdout


async def test_import_sends_a_chunk_again_while_the_service_answers_503(
    reporting_settings: ReportingSettings, tmp_path: Path
) -> None:
    """A chunk answered 503 (here: its statement waited on a lock past the statement timeout)
    is sent again after Retry-After, and the import ends with every report stored."""
    env = service_env(reporting_settings.database_url, reporting_settings.nats_url,
                      WARROOM_DATABASE_STATEMENT_TIMEOUT="0.5")  # fmt: skip
    ndjson = tmp_path / "reports.ndjson"
    ndjson.write_text("\n".join(json.dumps(report()) for _ in range(30)) + "\n")
    admin = await asyncpg.connect(
        reporting_settings.database_url, server_settings={"search_path": SCHEMA}
    )
    with serving("warroom_reporting.app:create_app", env) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer()) as client:
            async with asyncio.timeout(15):
                while (await client.post("/v1/reports", json={})).status_code == 503:
                    await asyncio.sleep(0.1)  # the directory is still loading
        locked = admin.transaction()
        await locked.start()
        await admin.execute("LOCK TABLE reports IN EXCLUSIVE MODE")
        proc = subprocess.Popen(
            [WARROOM, "import", str(ndjson), "--url", url, "--chunk", "10"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            async with asyncio.timeout(30):  # until a chunk was answered 503, or the end
                while (line := await asyncio.to_thread(proc.stderr.readline)) and (
                    "sending the chunk again" not in line
                ):
                    pass
            assert "503 database_unavailable" in line, "no chunk was sent again"
            await locked.rollback()
            out, err = await asyncio.to_thread(proc.communicate, timeout=60)
        finally:
            proc.kill()
            await admin.close()
    assert proc.returncode == 0, err
    assert "30 created, 0 duplicate, 0 conflict, 0 refused" in out


async def _directory_loaded(client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(15):
        while (await client.post("/v1/reports", json={})).status_code == 503:
            await asyncio.sleep(0.1)  # the directory is still loading


def _sheet(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, [*CSV_NEEDED, "stages", "participants_people"])
        writer.writeheader()
        writer.writerows(rows)


def _row(i: int, **changes: str) -> dict[str, str]:
    return {"programme": "cast", "district_code": "1201", "activity_date": "2025-02-14",
            "dimensions": "water", "title": f"กิจกรรม {i}", "details": "รายละเอียด",
            "reported_by_name": "สมศรี", "reported_by_position": "ปลัดอำเภอ",
            "stages": "talk", "participants_people": "12", **changes}  # fmt: skip


async def test_import_names_each_refused_line_of_the_file_and_counts_past_twenty(
    reporting_settings: ReportingSettings, tmp_path: Path
) -> None:
    """A cell with line breaks makes a row span lines: a refusal names the row's first line."""
    env = service_env(reporting_settings.database_url, reporting_settings.nats_url)
    rows = [_row(0, details="บรรทัดหนึ่ง\nบรรทัดสอง\nบรรทัดสาม")]  # file lines 2-4
    rows += [_row(i, participants_people="สิบ") for i in range(1, 26)]  # lines 5-29
    rows += [_row(26, activity_date="2025-02-30"), _row(27)]  # lines 30, 31
    sheet = tmp_path / "reports.csv"
    _sheet(sheet, rows)
    with serving("warroom_reporting.app:create_app", env) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(), timeout=30) as client:
            await _directory_loaded(client)
        done = run(
            "import", str(sheet), "--url", url, "--chunk", "7", env={**env, "LANG": "C.UTF-8"}
        )
        thai = run("import", str(sheet), "--url", url, env={**env, "LANG": "th_TH.UTF-8"})
    assert done.returncode == 1, done.stderr
    assert "reports.csv: 28 reports: 2 created, 0 duplicate, 0 conflict, 26 refused" in done.stdout
    lines = done.stderr.splitlines()
    # the message in the language of the user's locale
    assert lines[0].startswith("line 5: participants.people: Input should be")
    assert thai.stderr.startswith("line 5: participants.people: ")
    assert "Input" not in thai.stderr.splitlines()[0]
    assert [line.split(":")[0] for line in lines[:20]] == [f"line {n}" for n in range(5, 25)]
    assert lines[20:] == ["… and 6 more"]


async def test_import_with_a_token_the_service_refuses_stops_in_one_line(
    reporting_settings: ReportingSettings, tmp_path: Path
) -> None:
    ndjson = tmp_path / "reports.ndjson"
    ndjson.write_text("\n".join(json.dumps(report()) for _ in range(30)) + "\n")
    env = service_env(reporting_settings.database_url, reporting_settings.nats_url)
    viewer = token(AccessRole.NATIONAL_VIEWER)
    with serving("warroom_reporting.app:create_app", env) as url:
        forbidden = run("import", str(ndjson), "--url", url, "--chunk", "5", "--token", viewer,
                        env=env)  # fmt: skip
        unknown = run("import", str(ndjson), "--url", url, "--token", "not-a-token", env=env)
    line = failure_line(forbidden)  # the service's message is in the operator's language
    assert line.startswith(f"warroom import: the reporting service at {url} refused the token "
                           "(403 forbidden: ")  # fmt: skip
    assert line.endswith(": POST /v1/reports:bulk needs a token of role admin or district_officer")
    line = failure_line(unknown)
    assert line.startswith(f"warroom import: the reporting service at {url} refused the token (401")
    assert line.endswith("give a valid one with --token or $WARROOM_TOKEN (`warroom token "
                         "--role admin` on the embedded platform)")  # fmt: skip


def test_import_of_a_csv_without_a_column_fails_before_sending(tmp_path: Path) -> None:
    """Nothing listens at the URL: the answer is about the columns, so nothing was sent."""
    sheet = tmp_path / "reports.csv"
    sheet.write_text("programme,district_code,activity_date,dimensions,details\n"
                     "cast,1201,2025-02-14,water,รายละเอียด\n", encoding="utf-8")  # fmt: skip
    url = f"http://127.0.0.1:{free_port()}"
    line = failure_line(run("import", str(sheet), "--url", url, env=dict(os.environ)))
    assert line == (f"warroom import: {sheet} has no column title, reported_by_name, "
                    "reported_by_position (it needs the columns of GET /v1/reports.csv)")  # fmt: skip
