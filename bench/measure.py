"""Measuring helpers shared by every benchmark: medians of repeated runs and peak memory.

Each measured call runs in a fresh child process (``multiprocessing`` with the ``spawn`` start method), so
peak resident memory (``ru_maxrss`` of the child) belongs to that call alone and caches from one run do not
flatter the next. Figures are medians of ``runs`` repetitions: the machine is noisy.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measurement:
    """Median wall time (s) and the largest peak RSS (MiB) over the runs, plus what the call returned."""

    label: str
    seconds: list[float]
    peak_mib: float
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _child(target: str, args: tuple[Any, ...], queue: Any) -> None:
    module, func = target.split(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), func)
    start = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((elapsed, peak_kib / 1024.0, result))


def measure(label: str, target: str, *args: Any, runs: int = 3) -> Measurement:
    """Run ``target`` ("package.module:function") ``runs`` times, each in a fresh process.

    The function's own return value (e.g. a row count) is kept from the last run so benchmarks can check
    that the candidate and the baseline did the same work. Process start-up and imports are not timed:
    only the call itself.
    """
    ctx = mp.get_context("spawn")
    seconds: list[float] = []
    peak = 0.0
    result: Any = None
    for _ in range(runs):
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(target, args, queue))
        proc.start()
        elapsed, peak_mib, result = queue.get()
        proc.join()
        if proc.exitcode != 0:
            raise RuntimeError(f"benchmark {label} failed with exit code {proc.exitcode}")
        seconds.append(elapsed)
        peak = max(peak, peak_mib)
    return Measurement(label, seconds, peak, result)


def machine_line() -> str:
    import os

    return f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores"


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table from a list of dicts (same keys)."""
    if not rows:
        return "_no rows_\n"
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(out) + "\n"
