"""Run the benchmarks and (re)write their sections of docs/benchmarks.md.

Each benchmark is a module ``bench/bench_<name>.py`` with ``TITLE`` and ``main(scale: str, runs: int) -> str``
returning a Markdown section. ``python -m bench.run [names…] [--scale l] [--runs 3]``; sections of benchmarks
that were not run are kept from the file, so one benchmark can be refreshed alone.

Each section is written as soon as its benchmark ends, into the file as it is *then* (read under a lock, replaced
atomically): two runs in one checkout (say ``bench.run funnel`` beside ``bench.run kpis``) each keep the other's
section, and a long run that fails half-way keeps what it measured before.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import importlib
import os
import pkgutil
import re
from pathlib import Path

from bench.measure import machine_line

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Written by `make bench` (`python -m bench.run`). Every figure is the median of several runs, each in a fresh
process, with a baseline measured in the same run on the same machine, so the ratios mean something even on a
noisy machine. Peak memory is the peak resident set of the measured process.
"""


ON_REQUEST = ("cluster",)
"""Benchmarks left out of ``make bench`` (all): the cluster run starts JVMs and takes the better part of an hour
at scale xl; run it by name (``python -m bench.run cluster --scale xl --runs 1``)."""


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"(?m)^<!-- bench:(\w+) -->\n", text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = f"all but {', '.join(ON_REQUEST)}"
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default {default}): {', '.join(available())}")
    parser.add_argument("--scale", default="l", help="simulator scale for the data-heavy benchmarks")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    names = args.names or [n for n in available() if n not in ON_REQUEST]
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"bench: {name} …", flush=True)
        body = module.main(scale=args.scale, runs=args.runs)
        stamp = (
            f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine_line()}; scale {args.scale}, "
            f"{args.runs} runs._\n\n"
        )
        write_section(name, f"## {module.TITLE}\n\n{stamp}{body.strip()}\n\n")
        print(f"bench: wrote {name}'s section of {DOC}", flush=True)


def write_section(name: str, section: str) -> None:
    """Replace one benchmark's section of :data:`DOC`, keeping every other section as the file holds it now."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    with open(DOC.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sections = _sections(DOC.read_text(encoding="utf-8")) if DOC.exists() else {}
        sections[name] = section
        text = HEADER + "\n" + "".join(f"<!-- bench:{k} -->\n{sections[k]}" for k in sorted(sections))
        tmp = DOC.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, DOC)


if __name__ == "__main__":
    main()
