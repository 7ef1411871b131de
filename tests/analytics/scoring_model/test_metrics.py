"""Backtest metrics, threshold advice, leakage guard and model contract against independent computations.

Every metric is recomputed on the same predictions by scikit-learn's metrics or a plain numpy/pandas loop
written from the definition (ECE, lift by decile, the calibration curve), never by the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.exceptions import NotFittedError
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from revalign.analytics.scoring.backtest import (
    calibration_table,
    compare_scores,
    decile_table,
    expected_calibration_error,
    score_metrics,
    stratified_split,
    time_split,
)
from revalign.analytics.scoring.leakage import LeakageError, audit, check_cutoff, guard, single_feature_auc
from revalign.analytics.scoring.model import LeadScoreModel, load_model
from revalign.analytics.scoring.threshold import recommend_threshold


@pytest.fixture(scope="module")
def preds() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    p = rng.beta(1.5, 5.0, 2000)
    y = (rng.random(2000) < np.clip(p * 1.1, 0, 1)).astype(int)
    return y, p


def test_metrics_match_sklearn(preds: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = preds
    m = score_metrics(y, p)
    assert m.roc_auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m.pr_auc == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert m.brier == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert (m.n, m.positives) == (2000, int(y.sum()))


def test_ece_and_calibration_curve_match_plain_loops(preds: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = preds
    total = 0.0
    for b in range(10):
        lo, hi = b / 10, (b + 1) / 10
        inside = (p >= lo) & ((p < hi) if b < 9 else (p <= hi))
        if inside.any():
            total += inside.sum() / len(p) * abs(y[inside].mean() - p[inside].mean())
    assert expected_calibration_error(y, p) == pytest.approx(total, abs=1e-12)
    table = calibration_table(y, p)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(table["observed"], observed, atol=1e-12)
    np.testing.assert_allclose(table["predicted"], predicted, atol=1e-12)
    assert table["leads"].sum() == len(p)


def test_deciles_and_lift_match_pandas(preds: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = preds
    table = decile_table(y, p)
    frame = pd.DataFrame({"y": y, "p": p}).sort_values("p", ascending=False, kind="stable").reset_index(drop=True)
    frame["decile"] = frame.index // 200 + 1  # 2,000 leads: 200 a decile
    rate = frame.groupby("decile")["y"].mean()
    np.testing.assert_allclose(table["conversion_rate"], rate.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(table["lift"], rate.to_numpy() / y.mean(), atol=1e-12)
    assert table["cumulative_capture"].iloc[-1] == pytest.approx(1.0)
    assert table["lift"].iloc[0] > 1.5 > table["lift"].iloc[-1]


def test_compare_scores_side_by_side(preds: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = preds
    points = np.round(p * 100)  # a rule score in points: ranked, not calibrated
    points_with_gap = points.copy()
    points_with_gap[:10] = np.nan
    side = compare_scores(y, {"model": p, "rules": points, "current": points_with_gap}).set_index("score")
    assert side.loc["model", "roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert side.loc["rules", "roc_auc"] == pytest.approx(roc_auc_score(y, points))
    assert side.loc["current", "n"] == 1990
    assert side.loc["current", "roc_auc"] == pytest.approx(roc_auc_score(y[10:], points[10:]))
    assert np.isnan(side.loc["rules", "brier"]) and side.loc["model", "brier"] == pytest.approx(brier_score_loss(y, p))


def test_splits() -> None:
    frame = pd.DataFrame({"t": pd.date_range("2025-01-01", periods=100, freq="D"), "y": [0, 1] * 50})
    train, test = time_split(frame, "t", pd.Timestamp("2025-03-01"), until=pd.Timestamp("2025-03-11"))
    assert train["t"].max() < pd.Timestamp("2025-03-01") <= test["t"].min()
    assert len(train) == 59 and len(test) == 10
    train, test = stratified_split(frame, "y", seed=3)
    assert len(test) == 30 and test["y"].mean() == 0.5
    assert stratified_split(frame, "y", seed=3)[1].index.equals(test.index)  # seeded


def test_threshold_by_hand() -> None:
    # 100 leads over 10 days, 10 a day; a 24 h SLA: every window holds 10 leads, the peak load is 70 a week
    created = pd.Series(pd.date_range("2025-01-06", periods=100, freq="144min"))
    scores = np.linspace(1.0, 0.01, 100)
    advice = recommend_threshold(scores, created, reps=2, mqls_per_rep_per_week=7, sla_hours=24)
    # capacity 14 a week: the top 14/70 = 20 % of leads, the 20 highest scores
    assert advice.peak_leads_per_week == pytest.approx(70.0)
    assert advice.capacity_per_week == 14
    assert advice.threshold == pytest.approx(scores[19])
    assert advice.mql_share == pytest.approx(0.2)
    assert advice.expected_mqls_per_week == pytest.approx(14.0)
    assert advice.expected_conversion_share == pytest.approx(scores[:20].sum() / scores.sum())


def test_single_feature_auc_and_guard() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    frame = pd.DataFrame(
        {
            "echo": np.where(y == 1, "won", "lost"),  # encodes the outcome
            "noise": rng.normal(size=500),
            "duration": y * 100 + rng.normal(size=500),
            "weak": y + rng.normal(0, 3, 500),
        }
    )
    assert single_feature_auc(frame["echo"], y) == 1.0
    auc = roc_auc_score(y, frame["noise"])
    assert single_feature_auc(frame["noise"], y) == pytest.approx(max(auc, 1 - auc))
    found = {f.feature: f.check for f in audit(frame, y)}
    assert found == {"echo": "single_feature_auc", "duration": "documented"}
    with pytest.raises(LeakageError, match=r"'echo'.*'duration'"):
        guard(audit(frame, y))
    assert [f.feature for f in guard(audit(frame, y), allow=("echo", "Duration"))] == ["echo", "duration"]


def test_cutoff_check() -> None:
    t = pd.Timestamp("2025-01-01")
    frame = pd.DataFrame({"cutoff": [t, t], "latest_input_at": [t, t + pd.Timedelta(seconds=1)]})
    (finding,) = check_cutoff(frame)
    assert finding.check == "after_cutoff" and "1 rows" in finding.reason
    assert check_cutoff(frame.iloc[:1]) == []


@pytest.fixture(scope="module")
def toy() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 1200
    frame = pd.DataFrame(
        {
            "visits": rng.poisson(4, n).astype(float),
            "segment": rng.choice(["smb", "mid_market", "enterprise"], n),
        }
    )
    logit = -2 + 0.4 * frame["visits"] + frame["segment"].map({"smb": 0.0, "mid_market": 0.5, "enterprise": 1.0})
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, y


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_model_contract_and_saved_artefact(kind: str, toy, tmp_path) -> None:
    frame, y = toy
    model = LeadScoreModel(kind, cv=3)
    with pytest.raises(NotFittedError):
        model.predict_proba(frame)
    model.fit(frame, y)
    proba = model.predict_proba(frame)
    assert proba.shape == (len(frame), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(y, proba[:, 1]) > 0.7
    reasons = model.reasons(frame.head(5), top=2)
    assert len(reasons) == 5 and all(len(r) == 2 for r in reasons)
    sidecar = model.save(tmp_path / "m.pkl", {"window": {"train": "toy"}})
    loaded, meta = load_model(tmp_path / "m.pkl")
    np.testing.assert_allclose(loaded.predict_proba(frame), proba)
    assert meta["features"] == ["visits", "segment"] and meta["window"] == {"train": "toy"}
    assert meta["kind"] == kind and "scikit-learn" in meta["versions"] and sidecar.exists()


def test_logistic_reasons_decompose_the_linear_predictor(toy) -> None:
    """Per fold, Σ contributions = decision_function(x) − decision_function at the training mean."""
    frame, y = toy
    model = LeadScoreModel("logistic", cv=2).fit(frame, y)
    contrib = model.contributions(frame.head(20)).sum(axis=1).to_numpy()
    expected = np.zeros(20)
    for pipe, mean in zip(model._pipelines(), model.train_mean_, strict=True):
        lr = pipe.named_steps["model"]
        z = np.asarray(pipe.named_steps["pre"].transform(model._frame(frame.head(20))))
        expected += (z @ lr.coef_[0] + lr.intercept_[0]) - (mean @ lr.coef_[0] + lr.intercept_[0])
    np.testing.assert_allclose(contrib, expected / 2, atol=1e-9)
    # visits carries a positive coefficient: more visits than average push the score up
    top = model.contributions(frame.assign(visits=20.0).head(1)).iloc[0]
    assert top["visits"] > 0


def test_gbm_reasons_are_occlusions(toy) -> None:
    """A feature at its training reference pushes nothing; moving it changes the calibrated log-odds by its reason."""
    frame, y = toy
    model = LeadScoreModel("gbm", cv=2).fit(frame, y)
    at_reference = frame.head(3).assign(visits=model.reference_["visits"], segment=model.reference_["segment"])
    np.testing.assert_array_equal(model.contributions(at_reference).to_numpy(), 0.0)
    row = frame.head(1).assign(visits=12.0)
    p = model.score_leads(row)[0]
    p_ref = model.score_leads(row.assign(visits=model.reference_["visits"]))[0]
    expected = np.log(p / (1 - p)) - np.log(p_ref / (1 - p_ref))
    assert model.contributions(row).iloc[0]["visits"] == pytest.approx(expected)
    assert expected > 0  # more visits than the median raise the score


def test_model_refuses_leaks_unless_allowed(toy) -> None:
    frame, y = toy
    leaky = frame.assign(duration=y * 300.0)
    with pytest.raises(LeakageError, match="duration"):
        LeadScoreModel("logistic").fit(leaky, y)
    model = LeadScoreModel("logistic", allow=("duration",)).fit(leaky, y)
    assert [f.feature for f in model.allowed_leaks_] == ["duration"]
