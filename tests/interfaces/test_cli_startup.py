"""The CLI starts without the library: importing it, ``revalign --help`` and ``revalign version`` load none of
the heavy libraries, and the light command list (``COMMANDS``) is the app's own, help for help.

Structural, not timed (timings are in bench/bench_startup.py and docs/benchmarks.md): a timed test would fail on
a busy machine and pass a regression on a fast one.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import textwrap

import typer

from revalign.interfaces.cli import COMMANDS, app
from tests.conftest import REPO

HEAVY = (
    "ibis",
    "pandas",
    "numpy",
    "pyarrow",
    "duckdb",
    "pyspark",
    "sklearn",
    "scipy",
    "sqlalchemy",
    "revalign.project",
)

PROBE = textwrap.dedent(
    """
    import contextlib, io, json, sys
    import typer
    import revalign.interfaces.cli as cli
    heavy = {name: name in sys.modules for name in HEAVY}
    out = {"import": [n for n, loaded in heavy.items() if loaded]}
    for args in (["--help"], ["version"]):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = cli.main(args)
        out[" ".join(args)] = {"code": code, "text": buffer.getvalue(), "heavy": [n for n in HEAVY if n in sys.modules]}
    cli.load_all()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        typer.main.get_group(cli.application.app)(["--help"], standalone_mode=False)
    out["full help"] = buffer.getvalue()
    print(json.dumps(out))
    """
)


def _probe() -> dict:
    """Run the probe in a fresh interpreter (this one has the library loaded already)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "100", "TERM": "dumb"}
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_importing_the_cli_and_asking_for_help_or_the_version_loads_no_heavy_library():
    probe = _probe()
    assert probe["import"] == []
    assert probe["--help"]["heavy"] == [] and probe["--help"]["code"] == 0
    assert probe["version"]["heavy"] == [] and probe["version"]["code"] == 0
    assert probe["version"]["text"].strip() == "0.1.0"
    # the light index prints exactly what the fully loaded app prints
    assert "kpi" in probe["--help"]["text"] and probe["--help"]["text"] == probe["full help"]


def _first_paragraph(command) -> str:
    return " ".join((command.help or "").strip().split("\n\n")[0].split())


def test_the_command_list_is_the_apps_own_in_order_and_help():
    root = typer.main.get_command(app)
    # as sets: this process may have imported a command module early (test_docs imports docs); the order is the
    # probe's to check, in a fresh process where load_all() registers them in order (full help == index help)
    assert sorted(c.name for c in COMMANDS) == sorted(root.commands)
    for command in COMMANDS:
        assert command.help == _first_paragraph(root.commands[command.name]), command.name


def _imported_modules(module) -> set[str]:
    """The ``revalign`` modules ``module`` imports (``from a.b import c`` counts ``a.b`` and ``a.b.c``)."""
    names = {module.__name__}
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_each_commands_loader_imports_the_module_that_registers_it():
    root = typer.main.get_command(app)
    for command in COMMANDS:
        loaded = command.load()
        if isinstance(loaded, tuple):  # `revalign docs` loads every module
            continue
        click_command = root.commands[command.name]
        leaves = list(getattr(click_command, "commands", {}).values()) or [click_command]
        modules = {leaf.callback.__module__ for leaf in leaves}
        assert modules <= _imported_modules(loaded), (command.name, modules)
