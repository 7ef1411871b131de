"""The predictive score on the simulator, whose true conversion probabilities are known.

Time-based backtest at scale s: train on leads created in 2024 (as known on 2025-07-01), test on leads created
in 2025-H1 (outcomes as known at the export). On the same test leads, with scikit-learn's ``roc_auc_score``:

- the true probabilities (``GroundTruth.leads.p_convert``) rank at ROC-AUC ~0.78; the true model without the
  latent propensity (segment intercept + channel effects) at ~0.66: the propensity is worth 0.12 of AUC;
- the CRM records noisy views of the propensity (account growth and tech fit, the lead's job level and
  function: ``revalign.simulate.profiles``), so an honest model comes within 0.02 of the truth (issue #15;
  measured at s: logistic regression 0.774 against 0.783; at m, docs/scoring_model.md: gradient boosting 0.776
  against 0.788, ECE 0.011) and never beats it (a model that does is leaking: this test caught
  ``n_touches``, which counted demo requests and sales touches);
- without those fields the model falls back to about the propensity-free reference: they are what closes
  the gap;
- allowing the demo-request count (the MQL trigger) lifts the model above the truth: the leak the guard stops.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.metrics import roc_auc_score

from revalign.analytics.scoring.backtest import compare_scores, score_metrics
from revalign.analytics.scoring.features import FEATURES, TARGET, backtest_frames
from revalign.analytics.scoring.leakage import LeakageError, audit
from revalign.analytics.scoring.model import LeadScoreModel
from revalign.engine import connect
from revalign.model.access import Tables
from revalign.simulate import SimulationConfig, simulate

HONEST = [f for f in FEATURES if f not in ("n_sales", "n_demo_request")]
PROFILE = ("employee_growth", "tech_fit", "job_level", "job_function")
"""The recorded fields that reveal the simulator's latent propensity."""


@dataclass(frozen=True)
class Case:
    train: pd.DataFrame
    test: pd.DataFrame
    p_true: np.ndarray
    p_observable: np.ndarray


@pytest.fixture(scope="module")
def case() -> Case:
    company = simulate(scale="s", seed=0)
    engine = connect("duckdb://")
    company.write(engine)
    train, test = backtest_frames(
        Tables(engine), split=dt.datetime(2025, 1, 1), test_end=dt.datetime(2025, 7, 1), as_of=dt.datetime(2026, 1, 1)
    )
    assert company.truth.leads is not None
    truth = company.truth.leads.to_pandas().set_index("lead_id")
    test = test[test["lead_id"].isin(truth.index)]  # original leads (re-created ones have no latent truth)
    t = truth.loc[test["lead_id"]]
    cfg = SimulationConfig()
    effect = np.array([c.effect for c in cfg.channels])
    x = t[[f"x_{c.name}" for c in cfg.channels]].to_numpy(dtype=float)
    segment = t["segment"].map({"smb": 0, "mid_market": 1, "enterprise": 2}).to_numpy()
    observable = expit(np.asarray(cfg.intercept)[segment] + x @ effect)
    return Case(train, test, t["p_convert"].to_numpy(), observable)


def test_guard_flags_the_demo_request_and_sales_touches(case: Case) -> None:
    train = case.train
    found = {f.feature: f for f in audit(train[list(FEATURES)], train[TARGET].to_numpy())}
    assert set(found) == {"n_demo_request", "n_sales"}
    assert found["n_demo_request"].auc is not None and found["n_demo_request"].auc > 0.9  # the generic test agrees
    with pytest.raises(LeakageError, match="n_demo_request"):
        LeadScoreModel("logistic").fit(train[list(FEATURES)], train[TARGET])


def test_model_within_0_02_of_the_truth_and_calibrated(case: Case) -> None:
    train, test = case.train, case.test
    y = test[TARGET].to_numpy().astype(int)
    model = LeadScoreModel("logistic").fit(train[HONEST], train[TARGET])
    p = model.score_leads(test[HONEST])
    side = compare_scores(y, {"model": p, "truth": case.p_true, "observable": case.p_observable})
    auc = side.set_index("score")["roc_auc"]
    assert auc["model"] == pytest.approx(roc_auc_score(y, p))
    assert auc["truth"] == pytest.approx(roc_auc_score(y, case.p_true))
    assert auc["truth"] - auc["observable"] > 0.08  # the latent propensity's share of the truth's AUC
    assert auc["model"] < auc["truth"]  # an honest model never beats the truth
    assert auc["model"] > auc["truth"] - 0.02  # issue #15's floor (measured: 0.774 against 0.783)
    metrics, truth = score_metrics(y, p), score_metrics(y, case.p_true)
    assert metrics.ece is not None and truth.ece is not None
    assert metrics.ece == pytest.approx(_ece(y, p))
    # issue #15 asks ECE <= 0.02: met at scale m (0.011, docs/scoring_model.md); on these 1,461 leads the true
    # probabilities themselves have ECE 0.025 (sampling noise), so the model is held to the truth's ECE + 0.01
    assert metrics.ece <= max(0.02, truth.ece + 0.01)


def test_the_profile_fields_close_the_gap(case: Case) -> None:
    """Without the recorded profile fields the same model stays near the propensity-free reference."""
    train, test = case.train, case.test
    y = test[TARGET].to_numpy().astype(int)
    blind = [f for f in HONEST if f not in PROFILE]
    p = LeadScoreModel("logistic").fit(train[blind], train[TARGET]).score_leads(test[blind])
    assert roc_auc_score(y, p) < roc_auc_score(y, case.p_observable) + 0.03  # measured 0.633 against 0.663
    assert roc_auc_score(y, p) < roc_auc_score(y, case.p_true) - 0.1


def _ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width bins, as a plain loop (independent of the product's code)."""
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = (p >= lo) & ((p < hi) if b < bins - 1 else (p <= hi))
        if sel.any():
            total += sel.sum() / len(p) * abs(y[sel].mean() - p[sel].mean())
    return total


def test_allowing_the_leak_beats_the_truth(case: Case) -> None:
    train, test = case.train, case.test
    cols = [*HONEST, "n_demo_request"]
    model = LeadScoreModel("logistic", allow=("n_demo_request",)).fit(train[cols], train[TARGET])
    leaky = roc_auc_score(test[TARGET], model.score_leads(test[cols]))
    assert leaky > roc_auc_score(test[TARGET], case.p_true) + 0.05
