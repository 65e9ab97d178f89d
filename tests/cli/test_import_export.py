"""`warroom import`: an import of a CSV export gives back the reports as they were sent, text
that the export put behind a quote (so that a spreadsheet would not run it as a formula)
included; a chunk the service answers 503 is sent again."""

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

from tests.utils.auth import bearer
from tests.utils.factories import report
from tests.utils.processes import service_env
from warroom_cli.embedded import serving
from warroom_reporting import SCHEMA
from warroom_reporting.settings import ReportingSettings

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
