"""The browser's third-party files, pinned and shipped in `static/vendor/` (no CDN at run time:
government networks block them), each with its licence, listed in `manifest.json` with its
version and SHA-256.

`python -m warroom_web.assets` (`make assets`) fetches the pinned versions with `npm pack` into a
temporary folder and writes the files and the manifest again; the test suite checks the files
against the manifest."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).parent / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    licence: str  # SPDX
    files: dict[str, str]  # path in the npm package -> file name in static/vendor


PINNED = (
    Package("htmx.org", "2.0.11", "0BSD",
            {"dist/htmx.min.js": "htmx.min.js", "LICENSE": "htmx.LICENSE.txt"}),
    Package("htmx-ext-sse", "2.2.4", "0BSD",
            {"dist/sse.min.js": "htmx-ext-sse.min.js", "LICENSE": "htmx-ext-sse.LICENSE.txt"}),
    Package("echarts", "6.1.0", "Apache-2.0",
            {"dist/echarts.min.js": "echarts.min.js", "LICENSE": "echarts.LICENSE.txt",
             "NOTICE": "echarts.NOTICE.txt"}),
    Package("@fontsource/sarabun", "5.3.0", "OFL-1.1",
            {f"files/sarabun-{subset}-{weight}-normal.woff2":
             f"sarabun-{subset}-{weight}-normal.woff2"
             for subset in ("thai", "latin") for weight in (400, 700)}
            | {"LICENSE": "sarabun.LICENSE.txt"}),
    Package("axe-core", "4.14.1", "MPL-2.0",
            {"axe.min.js": "axe.min.js", "LICENSE": "axe-core.LICENSE.txt"}),
)  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest() -> list[dict[str, str]]:
    """One entry per shipped file: package, version, licence, file, sha256."""
    entries: list[dict[str, str]] = json.loads(MANIFEST.read_text())["files"]
    return entries


def refresh(folder: Path = VENDOR) -> None:
    """Fetch every pinned package with `npm pack` and write its files and the manifest."""
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for package in PINNED:
            spec = f"{package.name}@{package.version}"
            out = subprocess.run(
                ["npm", "pack", "--silent", "--pack-destination", tmp, spec],
                check=True, capture_output=True, text=True, cwd=tmp,
            )  # fmt: skip
            with tarfile.open(Path(tmp) / out.stdout.strip().splitlines()[-1]) as tar:
                for inside, name in package.files.items():
                    member = tar.extractfile(f"package/{inside}")
                    if member is None:
                        raise RuntimeError(f"{spec} has no {inside}")
                    (folder / name).write_bytes(member.read())
                    entries.append({"package": package.name, "version": package.version,
                                    "licence": package.licence, "file": name,
                                    "sha256": sha256(folder / name)})  # fmt: skip
    text = json.dumps({"files": entries}, indent=2, ensure_ascii=False) + "\n"
    (folder / "manifest.json").write_text(text)


if __name__ == "__main__":
    refresh()
    print(f"{len(manifest())} files in {VENDOR}", file=sys.stderr)
