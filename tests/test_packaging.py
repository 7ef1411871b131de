"""The wheel people install carries what an editable checkout hides: the type marker (``py.typed``, so mypy
checks code that imports revalign), the licence, and the templates, styles and definitions read at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_is_typed_licensed_and_complete(tmp_path: Path) -> None:
    # built from a copy, so the build's own folders (build/, *.egg-info) never land in the working tree
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w"]
    subprocess.run([*build, str(tmp_path / "dist")], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("revalign-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "revalign/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names), names
    for needed in (
        "revalign/interfaces/server/templates/base.html",
        "revalign/interfaces/server/static/app.js",
        "revalign/definitions/agreements/simulated_company.yaml",
        "revalign/sources/mappings/canonical.yaml",
    ):
        assert needed in names, needed
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
