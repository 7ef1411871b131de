"""The shape of the code, enforced: short functions, small modules, every silenced type check explained.

A function over 80 lines or a module over 600 is where a reader gets lost and a bug hides; McCabe complexity is
checked by ruff (C901, max 15, `make lint`). A `# type: ignore` must name its error code and say why, since mypy
runs on `src/` (`warn_unused_ignores` catches the stale ones).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SRC = REPO / "src" / "revalign"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 600
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[a-z-, ]+\])?(?P<rest>.*)$")


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def test_no_function_is_longer_than_80_lines():
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_no_module_is_longer_than_600_lines():
    big = []
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            big.append(f"{path.relative_to(REPO)} ({lines} lines)")
    assert not big, "modules over 600 lines:\n" + "\n".join(big)


def test_every_type_ignore_names_its_code_and_reason():
    bare = []
    for path in _modules():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found = IGNORE.search(line)
            if found is None:
                continue
            reason = found["rest"].strip().lstrip("#").strip()
            if not found["code"] or not reason:
                bare.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not bare, "a `# type: ignore[code]` needs a reason after it (# why):\n" + "\n".join(bare)


@pytest.mark.slow
def test_mypy_finds_no_type_errors_in_src():
    """mypy runs on ``src/`` with the configuration in pyproject.toml (no cache written into the tree)."""
    check = [sys.executable, "-m", "mypy", "--cache-dir", "/dev/null"]
    result = subprocess.run(check, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_ruff_finds_nothing():
    """ruff's rules (imports, bugbear, pyupgrade, McCabe complexity ≤ 15 …) and its formatter hold on the tree."""
    for check in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        command = [sys.executable, "-m", "ruff", *check, "src", "tests", "bench"]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
