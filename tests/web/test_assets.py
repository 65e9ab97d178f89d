"""The browser's files are shipped with the website, pinned, and match their manifest."""

from __future__ import annotations

import re
from pathlib import Path

from warroom_web import assets

WEB = Path(assets.__file__).parent


def test_every_vendor_file_matches_its_manifest_hash() -> None:
    entries = assets.manifest()
    shipped = {p.name for p in assets.VENDOR.iterdir()} - {"manifest.json"}
    assert {e["file"] for e in entries} == shipped
    for entry in entries:
        assert assets.sha256(assets.VENDOR / entry["file"]) == entry["sha256"], entry["file"]


def test_the_manifest_names_the_pinned_versions_each_with_its_licence() -> None:
    entries = assets.manifest()
    for package in assets.PINNED:
        files = {e["file"] for e in entries if e["package"] == package.name}
        assert files == set(package.files.values())
        assert {e["version"] for e in entries if e["package"] == package.name} == {package.version}
        assert any("LICENSE" in name for name in files), package.name


def test_pages_load_nothing_from_another_site() -> None:
    for path in [*WEB.glob("templates/**/*.html"), *WEB.glob("static/css/*.css"),
                 *WEB.glob("static/js/*.js")]:  # fmt: skip
        text = path.read_text()
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", text), path


def test_the_boundaries_come_with_their_source_and_attribution() -> None:
    source = (WEB / "static" / "geo" / "SOURCE.md").read_text()
    assert "OCHA COD-AB Thailand / Royal Thai Survey Department (CC BY-IGO)" in source
