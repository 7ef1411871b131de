"""The count tables the data-driven models trust blindly, checked on the way in: path and transition counts.

A path table (``path, conversions, nulls[, value]``) and a transition-count table (``from_state, to_state,
count[, value]``) may come from another tool, so a negative or missing count must stop the fit with the row
that holds it rather than turn into a silently wrong credit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from revalign.errors import DataError


def checked_counts(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` as float64, each finite and >= 0 (else a DataError naming the row); a missing ``value`` is 0.

    Shared by the path table and the transition-count table: both are counts a model trusts blindly.
    """
    for col in columns:
        if col not in frame.columns:
            if col == "value":
                frame = frame.assign(value=0.0)
            continue
        values = frame[col]
        if values.dtype != "float64":
            values = pd.to_numeric(values, errors="coerce").astype("float64")
        arr = values.to_numpy()
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))
        if len(bad):
            raise DataError(
                "counts must be finite and >= 0",
                row=int(bad[0]) + 1,
                column=col,
                rule="non-negative number",
                value=frame[col].iloc[bad[0]],
            )
        if values is not frame[col]:
            frame[col] = values
    return frame


def validated_paths(paths: pd.DataFrame) -> pd.DataFrame:
    """A path table with checked counts and a ``value`` column; paths with no journey at all are dropped."""
    if not isinstance(paths, pd.DataFrame):
        raise DataError(f"paths must be a pandas DataFrame (path, conversions, nulls). Got {type(paths).__name__}.")
    missing = [c for c in ("path", "conversions", "nulls") if c not in paths.columns]
    if missing:
        raise DataError(f"paths lacks column(s) {missing}", column=missing[0], rule="path table columns")
    out = checked_counts(paths.reset_index(drop=True), ("conversions", "nulls", "value"))
    keep = out["path"].notna().to_numpy() & ((out["conversions"] + out["nulls"]).to_numpy() > 0)
    return out if keep.all() else out[keep].reset_index(drop=True)
