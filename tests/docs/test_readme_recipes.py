"""The README's recipes, run as a reader would: every ```sh block of "## Using it" (its ###
subsections included), in order, in one bash session, against a real `warroom up` with its own
data folder and ports. Each recipe's addresses come from `WARROOM_*_PORT`, so the text runs as
written; curl is made to fail on an HTTP error, so a recipe that drifts from the API fails here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.utils.up import Up, running_up
from warroom_shared.security.principal import AccessRole
from warroom_shared.security.tokens import DevKeys

README = Path(__file__).parents[2] / "README.md"
SECTION = "## Using it"
# endpoints of the section's tables that no recipe can show: the stream never ends
NO_RECIPE = {"/v1/stream"}

# what a reader's shell lacks: curl that fails on 4xx/5xx (showing the body), and `set -e`
PROLOGUE = """set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
trap 'echo "recipes.sh line $LINENO failed" >&2' ERR
"""
# the ids the recipes captured, for the checks below
EPILOGUE = """jq -n --arg team "$TEAM" --arg report "$REPORT" '{$team, $report}' > ids.json
"""


def section(text: str) -> str:
    """The "## Using it" section, up to the next second-level heading."""
    start = text.index(f"\n{SECTION}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def recipes(text: str) -> list[str]:
    """Every ```sh block of the section, in order: a block not meant to run takes another
    language (```text, ```console)."""
    return re.findall(r"^```sh\n(.*?)^```$", section(text), re.DOTALL | re.MULTILINE)


def endpoints(text: str) -> set[str]:
    """The paths the section's tables name (`GET /v1/totals?...` -> /v1/totals)."""
    found = re.findall(r"`(?:GET|PUT|POST|DELETE) (/[^`?\s]*)", section(text))
    return set(found) - NO_RECIPE


def shown(path: str, script: str) -> bool:
    """A recipe calls the path, a `{placeholder}` standing for any one segment."""
    pattern = re.sub(r"\\\{[^}]*\\\}", r"[^/?\"\\s]+", re.escape(path))
    return re.search(pattern + r"(?=[?\"\s]|$)", script) is not None


def test_readme_recipes_call_every_endpoint_of_the_tables() -> None:
    text = README.read_text()
    script = "\n".join(recipes(text))

    assert len(recipes(text)) >= 5
    assert {p for p in endpoints(text) if not shown(p, script)} == set()


def test_readme_recipes_name_no_fixed_address() -> None:
    """Every address goes through $REGISTRY, $REPORTING or $AGGREGATOR (which follow
    WARROOM_*_PORT): a fixed one would reach whatever listens on this machine."""
    fixed = [line for line in "\n".join(recipes(README.read_text())).splitlines()
             if re.search(r"(localhost|127\.0\.0\.1):\d", line) and "${WARROOM_" not in line]  # fmt: skip

    assert fixed == []


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    with running_up(tmp_path_factory.mktemp("recipes")) as up:
        yield up


def run_recipes(up: Up, workdir: Path) -> subprocess.CompletedProcess[str]:
    """The recipes in a folder laid out like the repository's (`.venv/` is this test's
    environment), with the platform's ports and data folder, as `make run` leaves them."""
    assert shutil.which("jq"), "the recipes need jq"
    assert shutil.which("curl"), "the recipes need curl"
    (workdir / ".venv").symlink_to(sys.prefix)
    script = PROLOGUE + "\n".join(recipes(README.read_text())) + EPILOGUE
    (workdir / "recipes.sh").write_text(script)
    return subprocess.run(
        ["bash", "recipes.sh"], cwd=workdir, env=up.env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_readme_recipes_run_in_order_against_a_running_platform(
    platform: Up, tmp_path: Path
) -> None:
    done = run_recipes(platform, tmp_path)

    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    ids = json.loads((tmp_path / "ids.json").read_text())
    keys = DevKeys(Path(platform.env["WARROOM_DATA_DIR"]) / "auth")
    auth = {"Authorization": f"Bearer {keys.mint(AccessRole.ADMIN, subject='test-recipes')}"}

    def get(service: str, path: str) -> Any:
        url = f"http://127.0.0.1:{platform.port(service)}{path}"
        answer = httpx.get(url, headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    team = get("registry", f"/v1/teams/{ids['team']}")
    report = get("reporting", f"/v1/reports/{ids['report']}")
    history = get("reporting", f"/v1/reports/{ids['report']}/history")
    totals = get("aggregator", "/v1/totals?scope=district&code=1201&fiscal_year=2568&quarter=2")
    deadlines = get("aggregator", "/v1/deadlines?fiscal_year=2568")
    villages = get("registry", "/v1/districts/1201/villages?fiscal_year=2568")
    csv = (tmp_path / "reports-1201.csv").read_text(encoding="utf-8")

    assert [m["role"] for m in team["members"]] == ["district_chief"]
    assert report["status"] == "retracted"
    assert report["participants"]["people"] == 45
    assert [h["action"] for h in history] == ["submitted", "amended", "retracted"]
    assert totals["reports"] == 2  # the two imported; the one posted was retracted
    assert {"quarter": 2, "due_on": "2025-04-30"}.items() <= deadlines[1].items()
    assert villages == []
    assert csv.startswith("\ufeff")
    assert ids["report"] in csv
    assert "ซ่อมแซมประปาหมู่บ้าน" in done.stdout
