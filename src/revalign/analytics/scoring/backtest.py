"""Backtest of lead scores: splits, the metrics marketing and sales read, and scores side by side.

Splits:

- **time-based** (canonical data, :func:`time_split`): train on leads created before a date, test on leads
  created after it, so the test is what the model would have faced in production;
- **stratified hold-out** (flat public datasets without dates, :func:`stratified_split`): 30 % held out,
  conversion rate kept, seeded.

Metrics on one set of predictions (:func:`score_metrics`): ROC-AUC and PR-AUC (ranking: is the top of the list
richer?), Brier score and ECE (calibration: does 0.3 mean 30 %?), plus the calibration curve
(:func:`calibration_table`) and conversion and lift by decile (:func:`decile_table`: decile 1 is the 10 % of
leads with the highest scores; lift is its conversion rate over the overall rate).

``ECE = Σ_b (n_b / n) · |mean(y in b) − mean(p in b)|`` over ``bins`` equal-width probability bins (empty
bins skipped). :func:`compare_scores` puts several scores of the same leads side by side (the rules' points,
the model's probability, the CRM's current ``leads.score``); Brier and ECE are reported only for scores that
are probabilities (all values in [0, 1]).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class ScoreMetrics:
    """How well one score ranks and (when a probability) how well it is calibrated."""

    n: int
    positives: int
    roc_auc: float
    pr_auc: float
    brier: float | None
    ece: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def stratified_split(
    frame: pd.DataFrame, target: str, *, test_size: float = 0.3, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): a seeded hold-out of ``test_size`` with the conversion rate kept in both parts."""
    train, test = train_test_split(frame, test_size=test_size, stratify=frame[target], random_state=seed)
    return train, test


def time_split(
    frame: pd.DataFrame, time_column: str, at: object, *, until: object | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): rows before ``at``, and rows from ``at`` (up to ``until``, exclusive, when given)."""
    t = frame[time_column]
    test = t >= at
    if until is not None:
        test &= t < until
    return frame[t < at], frame[test]


def is_probability(scores: np.ndarray) -> bool:
    return bool(np.all((scores >= 0.0) & (scores <= 1.0)))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width bins of the predicted probability (see the module doc)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    count = np.bincount(idx, minlength=bins)
    gap = np.abs(np.bincount(idx, weights=y, minlength=bins) - np.bincount(idx, weights=p, minlength=bins))
    return float(gap[count > 0].sum() / len(y))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Per equal-width bin: leads, mean predicted probability, observed conversion rate."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": idx, "y": y, "p": p})
    out = frame.groupby("bin").agg(leads=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    out.insert(0, "lower", out.index / bins)
    out.insert(1, "upper", (out.index + 1) / bins)
    return out.reset_index(drop=True)


def decile_table(y: np.ndarray, scores: np.ndarray, groups: int = 10) -> pd.DataFrame:
    """Conversion and lift by score decile (1 = highest scores); ties broken by position, so groups are equal."""
    y, s = np.asarray(y, dtype=float), np.asarray(scores, dtype=float)
    order = np.argsort(-s, kind="stable")
    decile = np.empty(len(s), dtype=int)
    decile[order] = np.arange(len(s)) * groups // len(s) + 1
    frame = pd.DataFrame({"decile": decile, "y": y, "s": s})
    out = frame.groupby("decile").agg(
        leads=("y", "size"), conversions=("y", "sum"), min_score=("s", "min"), max_score=("s", "max")
    )
    out["conversion_rate"] = out["conversions"] / out["leads"]
    out["lift"] = out["conversion_rate"] / y.mean()
    out["cumulative_capture"] = out["conversions"].cumsum() / y.sum()
    return out.reset_index()


def score_metrics(y: np.ndarray, scores: np.ndarray, bins: int = 10) -> ScoreMetrics:
    """ROC-AUC, PR-AUC, and (for probabilities) Brier and ECE of ``scores`` against outcomes ``y``."""
    y = np.asarray(y).astype(int)
    s = np.asarray(scores, dtype=float)
    prob = is_probability(s)
    return ScoreMetrics(
        n=len(y),
        positives=int(y.sum()),
        roc_auc=float(roc_auc_score(y, s)),
        pr_auc=float(average_precision_score(y, s)),
        brier=float(brier_score_loss(y, s)) if prob else None,
        ece=expected_calibration_error(y, s, bins) if prob else None,
    )


def compare_scores(y: np.ndarray, scores: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One row per score (rules, model, current ``leads.score``…) on the same leads: the metrics side by side.

    Leads where a score is missing (NaN) are left out of that score's row only; ``n`` says how many remained.
    """
    rows = []
    y = np.asarray(y).astype(int)
    for name, values in scores.items():
        s = np.asarray(values, dtype=float)
        keep = ~np.isnan(s)
        m = score_metrics(y[keep], s[keep])
        top = decile_table(y[keep], s[keep]).iloc[0]
        rows.append({"score": name, **m.as_dict(), "top_decile_lift": float(top["lift"])})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Backtest:
    """A fitted score's results on held-out leads: metrics, calibration curve, deciles, predictions."""

    metrics: ScoreMetrics
    calibration: pd.DataFrame
    deciles: pd.DataFrame
    predictions: np.ndarray


def backtest(y: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> Backtest:
    """Everything the backtest page and the docs show, from one set of held-out predictions."""
    p = np.asarray(probabilities, dtype=float)
    return Backtest(score_metrics(y, p, bins), calibration_table(y, p, bins), decile_table(y, p), p)
