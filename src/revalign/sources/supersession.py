"""① Superseded submissions: which forecast call replaced which, derived on load.

A forecast submission stays the owner's call for its period until the owner submits again for the same period,
grain and category. ``superseded_at`` (the next submission's time) makes "the call that stood at time t" a plain
row filter (``submitted_at <= t < superseded_at``), which every engine and the KPI filter whitelist can express.
A CRM export rarely carries it, and a value in a file could contradict the submissions themselves, so it is
always recomputed from the whole table after each load.
"""

from __future__ import annotations

import pandas as pd

SERIES = ["owner_id", "period_start", "period_grain", "category"]
"""Submissions that replace each other: one owner's calls for one period, grain and category."""


def with_superseded(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (forecasts) with ``superseded_at`` = the next ``submitted_at`` of the same series, else null.

    Two submissions at the same instant are ordered by ``forecast_id``, so the result never depends on row order.
    """
    if frame.empty:
        return frame
    plain = frame.reset_index(drop=True)  # the loader indexes by the key, which is also a column
    order = plain.sort_values(["submitted_at", "forecast_id"], kind="stable")
    nxt = order.groupby(SERIES, dropna=False, sort=False)["submitted_at"].shift(-1)
    out = frame.copy()
    out["superseded_at"] = nxt.sort_index().to_numpy()
    out["superseded_at"] = out["superseded_at"].astype(frame["submitted_at"].dtype)
    return out
