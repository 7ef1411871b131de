"""The MQL threshold sales can actually work: from rep capacity and the follow-up SLA, not from a wish.

Marketing wants a low bar (more MQLs), sales a high one (better MQLs). The bar both can sign is the one at
which the MQLs that arrive fit what the reps can follow up within the SLA:

- capacity: ``reps × mqls_per_rep_per_week`` MQLs a week;
- the SLA binds in busy periods, not on average: leads are counted per SLA window (``sla_hours`` long), the
  ``peak_quantile`` window count is taken as the load to plan for, and scaled to a week
  (``× 168 / sla_hours``);
- the threshold is the lowest score whose share of leads at or above it, times that peak weekly load, fits
  the capacity.

With calibrated probabilities, the recommendation also says how many conversions the MQLs above it hold
(sum of their probabilities) and what share of all expected conversions that is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HOURS_PER_WEEK = 168.0


@dataclass(frozen=True)
class ThresholdAdvice:
    """The recommended bar and what it means for both teams."""

    threshold: float
    mql_share: float  # share of leads at or above the threshold
    capacity_per_week: float
    peak_leads_per_week: float
    expected_mqls_per_week: float  # at peak load
    expected_conversion_share: float | None  # of all expected conversions, when scores are probabilities


def peak_weekly_load(created_at: pd.Series, sla_hours: float, peak_quantile: float = 0.9) -> float:
    """Leads per week at the ``peak_quantile`` SLA window (windows of ``sla_hours`` over the whole span)."""
    t = pd.to_datetime(created_at)
    start = t.min().floor("D")
    window = ((t - start) / pd.Timedelta(hours=sla_hours)).astype(int)
    n_windows = int(window.max()) + 1
    counts = np.bincount(window.to_numpy(), minlength=n_windows)
    return float(np.quantile(counts, peak_quantile)) * HOURS_PER_WEEK / sla_hours


def recommend_threshold(
    scores: np.ndarray,
    created_at: pd.Series,
    *,
    reps: int,
    mqls_per_rep_per_week: float,
    sla_hours: float = 24.0,
    peak_quantile: float = 0.9,
) -> ThresholdAdvice:
    """The lowest score at which peak-load MQLs fit the reps' capacity within the SLA (see the module doc)."""
    s = np.sort(np.asarray(scores, dtype=float))[::-1]
    capacity = reps * mqls_per_rep_per_week
    load = peak_weekly_load(created_at, sla_hours, peak_quantile)
    # the k highest scores can be MQLs when load × k / n ≤ capacity
    k = int(np.floor(capacity / load * len(s))) if load > 0 else len(s)
    k = max(1, min(k, len(s)))
    threshold = float(s[k - 1])
    share = float(np.mean(s >= threshold))
    prob = bool(np.all((s >= 0) & (s <= 1)))
    return ThresholdAdvice(
        threshold=threshold,
        mql_share=share,
        capacity_per_week=capacity,
        peak_leads_per_week=load,
        expected_mqls_per_week=share * load,
        expected_conversion_share=float(s[s >= threshold].sum() / s.sum()) if prob and s.sum() > 0 else None,
    )
