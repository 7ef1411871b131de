"""The leakage guard: features recorded after the outcome, or that encode it, are refused unless allowed.

A lead score is useful only if it can be computed *before* sales works the lead. A feature known only after
the outcome (a call's duration) or filled in by the people who produced the outcome (a sales rep's tag "Closed
by Horizzon") makes a model look brilliant in a backtest and useless in production: on the X Education data
the sales-entered fields lift ROC-AUC from about 0.87 to about 0.98 — leakage, not skill.

Three checks, each a reason a feature is flagged:

1. **Documented list** (:data:`KNOWN_LEAKS`): features whose data dictionary says they are recorded after
   contact or entered by sales. Matched by name, case-insensitively.
2. **Single-feature AUC** (generic): a feature that on its own ranks the outcome with ROC-AUC ≥
   ``auc_threshold`` (0.9 by default, either direction; categories scored by their conversion rate) is
   suspicious: no honest single attribute of a lead separates converters that well.
3. **After the cut-off** (canonical data): a row whose ``latest_input_at`` is after its ``cutoff`` read
   something not yet known when the lead was scored (:func:`check_cutoff`).

:func:`guard` raises :class:`LeakageError` naming every flagged feature and why, unless the feature is in
``allow`` (a parameter of the model, or ``allow_features`` in the model's YAML).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from revalign.errors import RevalignError

X_EDUCATION_SALES_FIELDS = (
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
    "Last Activity",
    "Last Notable Activity",
)

KNOWN_LEAKS: dict[str, str] = {
    "duration": "UCI bank: the last call's duration, known only after the call (bank-additional-names.txt: "
    "'this input should only be included for benchmark purposes')",
    "Tags": "X Education: the current status of the lead, assigned by sales (data dictionary)",
    "Lead Quality": "X Education: quality judged by the employee assigned to the lead (data dictionary)",
    "Lead Profile": "X Education: a lead level assigned to each customer (sales-entered)",
    "Asymmetrique Activity Index": "X Education: an index assigned to each customer on activity and profile",
    "Asymmetrique Profile Index": "X Education: an index assigned to each customer on activity and profile",
    "Asymmetrique Activity Score": "X Education: a score assigned to each customer on activity and profile",
    "Asymmetrique Profile Score": "X Education: a score assigned to each customer on activity and profile",
    "Last Activity": "X Education: the last activity at export time, after sales contact (values include "
    "'Had a Phone Conversation', 'SMS Sent', 'Converted to Lead')",
    "Last Notable Activity": "X Education: the last notable activity at export time, after sales contact",
    "n_demo_request": "canonical: a demo request is the MQL trigger and precedes almost every opportunity",
    "n_sales": "canonical: sales touches begin at the hand-off, so they count the outcome's own work",
}
"""Features known to leak the outcome, with the reason (the documented half of the guard)."""

DEFAULT_AUC_THRESHOLD = 0.9


class LeakageError(RevalignError, ValueError):
    """Flagged features were given to a model without being allowed."""


@dataclass(frozen=True)
class Finding:
    """One flagged feature: which check flagged it, its single-feature AUC, and why."""

    feature: str
    check: str  # "documented", "single_feature_auc" or "after_cutoff"
    auc: float | None
    reason: str


def single_feature_auc(x: pd.Series, y: np.ndarray) -> float:
    """ROC-AUC of one feature alone, in its better direction (≥ 0.5); NaN for a constant feature.

    Numbers rank as they are (missing values at the median); categories are ranked by their conversion rate
    in ``y`` (an in-sample target encoding: optimistic, which is right for a guard).
    """
    y = np.asarray(y).astype(int)
    if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
        values = x.astype("float64")
        values = values.fillna(values.median()).to_numpy()
    else:
        codes = x.astype(object).where(x.notna(), "<missing>")
        rate = pd.Series(y, index=codes.index).groupby(codes).mean()
        values = codes.map(rate).to_numpy(dtype="float64")
    if np.unique(values).size < 2 or np.unique(y).size < 2:
        return float("nan")
    auc = float(roc_auc_score(y, values))
    return max(auc, 1.0 - auc)


def audit(
    frame: pd.DataFrame,
    y: np.ndarray,
    *,
    features: Sequence[str] | None = None,
    auc_threshold: float = DEFAULT_AUC_THRESHOLD,
    known: Mapping[str, str] = KNOWN_LEAKS,
) -> list[Finding]:
    """Every finding for ``features`` (default: all columns): documented leaks and suspicious single-feature AUCs."""
    known_lower = {k.lower(): v for k, v in known.items()}
    findings: list[Finding] = []
    for name in features if features is not None else list(frame.columns):
        auc = single_feature_auc(frame[name], y)
        if name.lower() in known_lower:
            findings.append(Finding(name, "documented", auc, known_lower[name.lower()]))
        elif auc >= auc_threshold:
            findings.append(Finding(name, "single_feature_auc", auc, f"ranks the outcome alone with ROC-AUC {auc:.3f}"))
    return findings


def check_cutoff(frame: pd.DataFrame) -> list[Finding]:
    """Rows whose inputs are dated after their scoring time (canonical feature matrices only)."""
    if "latest_input_at" not in frame.columns or "cutoff" not in frame.columns:
        return []
    late = frame["latest_input_at"] > frame["cutoff"]
    if not late.any():
        return []
    return [Finding("latest_input_at", "after_cutoff", None, f"{int(late.sum())} rows read inputs after the cut-off")]


def guard(findings: Iterable[Finding], allow: Iterable[str] = ()) -> list[Finding]:
    """Raise :class:`LeakageError` for findings not in ``allow``; return the allowed ones (kept in metadata)."""
    allowed = {a.lower() for a in allow}
    refused = [f for f in findings if f.feature.lower() not in allowed]
    if refused:
        lines = "; ".join(f"{f.feature!r} ({f.check}: {f.reason})" for f in refused)
        raise LeakageError(
            f"leakage guard refused {len(refused)} feature(s): {lines}. Drop them, or allow them explicitly "
            "(allow_features) if you know they are available when a lead is scored."
        )
    return [f for f in findings if f.feature.lower() in allowed]
