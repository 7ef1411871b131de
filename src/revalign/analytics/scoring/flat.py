"""Flat lead datasets (one row per lead, no dates): the public benchmarks the predictive score is held to.

A flat file has no event times, so no as-of and no time-based split: it is backtested on a stratified hold-out
(:func:`revalign.analytics.scoring.backtest.stratified_split`). Reading one means three decisions, made here
once so the CLI, the tests and the docs agree:

- the target column and its positive value (``Converted`` = 1 in X Education, ``y`` = ``yes`` in UCI bank);
- ids are not features (``Prospect ID``, ``Lead Number``);
- placeholders are missing values: X Education's ``Select`` ("not answered"); UCI bank's ``pdays`` = 999
  ("never contacted") becomes a missing ``pdays`` plus the flag ``previously_contacted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PLACEHOLDERS = ("Select",)
ID_COLUMNS = ("Prospect ID", "Lead Number")


@dataclass(frozen=True)
class FlatDataset:
    """Features and 0/1 outcome of a flat lead file."""

    X: pd.DataFrame
    y: np.ndarray
    target: str


def read_flat(path: str | Path, target: str, *, positive: str = "1", sep: str | None = None) -> FlatDataset:
    """Read ``path`` (CSV; ``;`` detected when ``sep`` is not given), split off ``target`` == ``positive``."""
    path = Path(path)
    if sep is None:
        with path.open(encoding="utf-8") as fh:
            header = fh.readline()
        sep = ";" if header.count(";") > header.count(",") else ","
    frame = pd.read_csv(path, sep=sep)
    if target not in frame.columns:
        raise KeyError(f"{path}: no target column {target!r} (columns: {', '.join(frame.columns)})")
    y = (frame.pop(target).astype(str) == positive).to_numpy().astype(int)
    frame = frame.drop(columns=[c for c in ID_COLUMNS if c in frame.columns])
    frame = frame.replace(list(PLACEHOLDERS), np.nan)
    if "pdays" in frame.columns:
        never = frame["pdays"] == 999
        frame["previously_contacted"] = (~never).astype(int)
        frame["pdays"] = frame["pdays"].where(~never)
    return FlatDataset(frame, y, target)
