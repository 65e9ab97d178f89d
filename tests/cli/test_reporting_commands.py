import asyncio
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from nats.aio.client import Client as NATS

from tests.utils.auth import bearer
from tests.utils.factories import report
from tests.utils.processes import service_env, warroom
from warroom_cli.embedded import serving
from warroom_cli.reporting import csv_report
from warroom_reporting.settings import ReportingSettings

WARROOM = os.path.join(os.path.dirname(sys.executable), "warroom")


def _write_csv(path: Path, bodies: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["programme", "district_code", "activity_date", "dimensions", "stages",
                         "participants_people", "participants_media", "households", "title",
                         "details", "reported_by_name", "reported_by_position"])  # fmt: skip
        for i, _ in enumerate(bodies):
            writer.writerow(["cast", "1201", "2025-02-14", "water,income", "talk", 10 + i, 0, "",
                             f"กิจกรรม {i}", "รายละเอียด", "สมศรี", "ปลัดอำเภอ"])  # fmt: skip


def test_csv_report_derives_stable_id() -> None:
    row = {"programme": "cast", "district_code": "1001", "activity_date": "2025-02-14",
           "dimensions": "water income", "title": "t", "details": "d",
           "reported_by_name": "n", "reported_by_position": "p", "participants_people": "4"}  # fmt: skip
    first, again = csv_report(row), csv_report(dict(row))
    assert first["report_id"] == again["report_id"]
    assert first["participants"]["people"] == 4
    assert first["participants"]["media"] == 0
    assert csv_report({**row, "title": "other"})["report_id"] != first["report_id"]


def test_csv_report_leaves_counts_that_are_not_ascii_digits_for_the_service_to_refuse() -> None:
    row = {"programme": "cast", "district_code": "1001", "activity_date": "2025-02-14",
           "dimensions": "water", "title": "t", "details": "d", "reported_by_name": "n",
           "reported_by_position": "p", "participants_people": "๔", "participants_media": "²",
           "households": "x12", "village_no": " 3 "}  # fmt: skip
    report = csv_report(row)
    assert report["participants"]["people"] == "๔"
    assert report["participants"]["media"] == "²"
    assert report["households"] == "x12"
    assert report["village_no"] == 3


async def _directory_loaded(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, headers=bearer()) as client:
        async with asyncio.timeout(15):
            while (
                await client.post("/v1/reports", json=report(district_code="9999"))
            ).status_code == 503:
                await asyncio.sleep(0.1)  # the directory is still loading


async def _stream_count(nc: NATS) -> int:
    return int((await nc.jetstream().stream_info("REPORTS")).state.messages)


async def test_import_through_separate_relay(
    reporting_settings: ReportingSettings, nc: NATS, tmp_path: Path
) -> None:
    env = service_env(reporting_settings.database_url, reporting_settings.nats_url,
                      WARROOM_RELAY_ENABLED="false")  # fmt: skip
    ndjson = tmp_path / "reports.ndjson"
    ndjson.write_text("\n".join(json.dumps(report()) for _ in range(120)) + "\n")
    sheet = tmp_path / "reports.csv"
    _write_csv(sheet, [{}] * 30)
    with serving("warroom_reporting.app:create_app", env) as url, warroom("relay", env=env):
        await _directory_loaded(url)
        for path, count in ((ndjson, 120), (sheet, 30)):
            first = subprocess.run([WARROOM, "import", str(path), "--url", url, "--chunk", "50"],
                                   env=env, capture_output=True, text=True, check=False)  # fmt: skip
            assert first.returncode == 0, first.stderr
            assert f"{count} created" in first.stdout
            again = subprocess.run([WARROOM, "import", str(path), "--url", url],
                                   env=env, capture_output=True, text=True, check=False)  # fmt: skip
            assert f"0 created, {count} duplicate" in again.stdout
        async with asyncio.timeout(20):
            while await _stream_count(nc) < 150:
                await asyncio.sleep(0.1)
    assert await _stream_count(nc) == 150


async def test_import_in_parallel_chunks_tallies_and_names_refused_lines_in_order(
    reporting_settings: ReportingSettings, tmp_path: Path
) -> None:
    """Chunks answered in any order still add up, and refusals name their lines in the file."""
    env = service_env(reporting_settings.database_url, reporting_settings.nats_url)
    lines = [json.dumps(report()) for _ in range(40)]
    lines[32] = json.dumps(report(households=-1))  # line 33
    lines[6] = "{broken"  # line 7
    ndjson = tmp_path / "reports.ndjson"
    ndjson.write_text("\n".join(lines) + "\n")
    with serving("warroom_reporting.app:create_app", env) as url:
        await _directory_loaded(url)
        done = subprocess.run(
            [WARROOM, "import", str(ndjson), "--url", url, "--chunk", "5", "--parallel", "4"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert "38 created, 0 duplicate, 0 conflict, 2 refused" in done.stdout
    refused = [line for line in done.stderr.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in refused] == ["line 7", "line 33"]
    assert "households" in refused[1]
