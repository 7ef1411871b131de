"""Run the benchmarks and (re)write their sections of docs/benchmarks.md.

Each benchmark is a module ``bench/bench_<name>.py`` with ``TITLE`` and ``main(scale: str, runs: int) -> str``
returning a Markdown section. ``python -m bench.run [names…] [--scale l] [--runs 3]``; sections of benchmarks
that were not run are kept from the previous file, so one benchmark can be refreshed alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
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
    old = _sections(DOC.read_text(encoding="utf-8")) if DOC.exists() else {}
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"bench: {name} …", flush=True)
        body = module.main(scale=args.scale, runs=args.runs)
        stamp = (
            f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine_line()}; scale {args.scale}, "
            f"{args.runs} runs._\n\n"
        )
        old[name] = f"## {module.TITLE}\n\n{stamp}{body.strip()}\n\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = HEADER + "\n" + "".join(f"<!-- bench:{k} -->\n{old[k]}" for k in sorted(old))
    DOC.write_text(text, encoding="utf-8")
    print(f"bench: wrote {DOC}")


if __name__ == "__main__":
    main()
