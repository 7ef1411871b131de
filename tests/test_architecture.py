"""The layout is the data flow, enforced: import-linter contracts in pyproject.toml must hold.

A lower layer importing a higher one (say, the engine importing a KPI module), or anything outside
``revalign.engine`` importing a database driver, fails here rather than in a review.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_import_contracts_are_kept():
    lint = [
        sys.executable,
        "-c",
        "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
    ]
    result = subprocess.run(lint, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "broken" in result.stdout and "0 broken" in result.stdout
