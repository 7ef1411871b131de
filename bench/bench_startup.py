"""CLI start-up: how long ``revalign --help`` and ``revalign version`` take, against the interpreter's own floor
and against loading every command module (what every command paid before the CLI loaded them lazily).

Each figure is the median wall time of ``runs`` (at least 5) fresh processes, started the way a shell starts
``revalign``; ``python -c pass`` and ``import typer`` are the floors no CLI built on Typer can beat. ``revalign kpi
--help`` loads one command module (the KPI catalog's: the project, Ibis, pandas): the cost a command that
computes still pays, once, for what it calls. The module list under "heavy" is checked by
``tests/interfaces/test_cli_startup.py`` too (structurally, not timed).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import table

TITLE = "CLI start-up (revalign --help, revalign version)"
SRC = Path(__file__).resolve().parents[1] / "src"
CLI = [sys.executable, "-m", "revalign.interfaces.cli"]
CASES = (
    ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
    ("import typer (Typer floor)", [sys.executable, "-c", "import typer.main"]),
    ("revalign --help", [*CLI, "--help"]),
    ("revalign version", [*CLI, "version"]),
    ("revalign kpi --help (loads one command module)", [*CLI, "kpi", "--help"]),
    (
        "every command module loaded (the start-up before: baseline)",
        [sys.executable, "-c", "import revalign.interfaces.cli as c; c.load_all()"],
    ),
)


def wall(command: list[str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh processes running ``command`` (output discarded)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - start)
    return out


def main(scale: str = "s", runs: int = 5) -> str:
    """Markdown section: median start-up per case, and the ratio to the eager baseline."""
    runs = max(runs, 5)
    load = os.getloadavg()[0]
    medians = {label: statistics.median(wall(command, runs)) for label, command in CASES}
    baseline = medians[CASES[-1][0]]
    rows = [
        {"command": label, "median s": f"{seconds:.2f}", "× eager baseline": f"{seconds / baseline:.2f}"}
        for label, seconds in medians.items()
    ]
    return (
        f"Median of {runs} fresh processes each (`python -m revalign.interfaces.cli …`; the `revalign` script adds "
        f"only its shim); load average {load:.1f} at the start (on a shared machine the ratios mean more than the "
        "seconds). Target: `revalign --help` ≤ 0.5 s.\n\n" + table(rows)
    )


if __name__ == "__main__":
    print(main())
