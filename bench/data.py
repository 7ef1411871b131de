"""Simulated data for benchmarks: generated once per (scale, seed) into ``bench/_work/`` and reused.

``scale_data("l")`` returns the folder (``<table>/part-*.parquet`` + ``ground_truth.json``), generating it the
first time; ``load_scale(engine, "l")`` loads every canonical table of it with ``engine.load_parquet``.
Generation writes to a temporary folder and renames it at the end, so an interrupted or concurrent run never
leaves a half-written folder that a later benchmark would trust.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

WORK = Path(__file__).resolve().parent / "_work"


def scale_data(scale: str, seed: int = 0) -> Path:
    """The Parquet folder of the simulated company at ``scale``/``seed`` (generated on first use)."""
    from revalign.model.tables import TABLES
    from revalign.simulate import simulate_to_parquet

    folder = WORK / f"{scale}-{seed}"
    if (folder / "ground_truth.json").exists() and all((folder / name).is_dir() for name in TABLES):
        return folder
    shutil.rmtree(folder, ignore_errors=True)  # generated before a canonical table was added: generate again
    tmp = WORK / f".{scale}-{seed}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    simulate_to_parquet(tmp, scale=scale, seed=seed)
    try:
        os.replace(tmp, folder)
    except OSError:  # another process finished first: keep its folder
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / "ground_truth.json").exists():
            raise
    return folder


def load_scale(engine: Any, scale: str, seed: int = 0) -> dict[str, int]:
    """Load every canonical table of the simulated company into ``engine``; returns rows per table."""
    from revalign.model.tables import TABLES

    folder = scale_data(scale, seed)
    return {name: engine.load_parquet(name, folder / name) for name in TABLES}
