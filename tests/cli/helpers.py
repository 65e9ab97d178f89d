"""Running `warroom` commands as an operator does, and what a failure must look like."""

from __future__ import annotations

import os
import subprocess
import sys

WARROOM = os.path.join(os.path.dirname(sys.executable), "warroom")


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A command to its end; `timeout` fails a command that retries instead of failing."""
    return subprocess.run(
        [WARROOM, *args], env=env, capture_output=True, text=True, check=False, timeout=timeout
    )


def failure_line(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The one stderr line of a command that failed with `code`, and no traceback."""
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]
