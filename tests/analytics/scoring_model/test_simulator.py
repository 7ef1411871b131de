"""The predictive score on the simulator, whose true conversion probabilities are known.

Time-based backtest at scale s: train on leads created in 2024 (as known on 2025-07-01), test on leads created
in 2025-H1 (outcomes as known at the export). On the same test leads, with scikit-learn's ``roc_auc_score``:

- the true probabilities (``GroundTruth.leads.p_convert``) rank at ROC-AUC ~0.78; the true model's
  *observable* part (segment intercept + channel effects, the latent propensity left out) at ~0.66: the latent
  propensity (sd 1.0 on the log-odds) is what no honest feature can see, so "within 0.02 of the truth" is
  unreachable by construction (docs/scoring_model.md gives the scale-m figures);
- an honest model never beats the truth (a model that does is leaking: this test caught ``n_touches``, which
  counted demo requests and sales touches), and it comes within reach of the observable part;
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


def test_model_against_the_true_probabilities(case: Case) -> None:
    train, test = case.train, case.test
    y = test[TARGET].to_numpy().astype(int)
    model = LeadScoreModel("logistic").fit(train[HONEST], train[TARGET])
    p = model.score_leads(test[HONEST])
    side = compare_scores(y, {"model": p, "truth": case.p_true, "observable": case.p_observable})
    auc = side.set_index("score")["roc_auc"]
    assert auc["model"] == pytest.approx(roc_auc_score(y, p))
    assert auc["truth"] == pytest.approx(roc_auc_score(y, case.p_true))
    assert auc["truth"] - auc["observable"] > 0.08  # the latent propensity's share: out of any honest reach
    assert auc["model"] < auc["truth"]  # an honest model never beats the truth
    assert auc["model"] > auc["observable"] - 0.05
    metrics = score_metrics(y, p)
    assert metrics.ece is not None and metrics.ece < 0.03  # the truth's own ECE on these 1,461 leads is ~0.025


def test_allowing_the_leak_beats_the_truth(case: Case) -> None:
    train, test = case.train, case.test
    cols = [*HONEST, "n_demo_request"]
    model = LeadScoreModel("logistic", allow=("n_demo_request",)).fit(train[cols], train[TARGET])
    leaky = roc_auc_score(test[TARGET], model.score_leads(test[cols]))
    assert leaky > roc_auc_score(test[TARGET], case.p_true) + 0.05
