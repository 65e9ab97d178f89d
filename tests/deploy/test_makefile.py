"""The Makefile's set-up on a machine whose python3 cannot make a venv (Debian without its
python3-venv package): `make` falls back to virtualenv, installed beside the venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A python3 like Debian's without python3-venv: `-m venv` fails half-way, the rest works.
NO_VENV = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    echo "The virtual environment was not created successfully because ensurepip is not available." >&2
    exit 1
fi
exec {python} "$@"
"""


def test_a_python_without_venv_still_gets_a_venv_with_pip(tmp_path: Path) -> None:
    python = tmp_path / "python3"
    python.write_text(NO_VENV.format(python=sys._base_executable))  # type: ignore[attr-defined]
    python.chmod(0o755)
    venv = tmp_path / "venv"
    make = shutil.which("make")
    assert make is not None
    done = subprocess.run(
        [make, "-s", f"{venv}/bin/python", f"PYTHON={python}", f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    pip = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "--version"], capture_output=True, text=True
    )
    assert pip.returncode == 0, pip.stderr
    assert str(venv) in pip.stdout
    assert not (tmp_path / "venv.tools").exists()
