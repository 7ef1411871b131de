"""The "Model and calibration" section of ``/scoring`` and ``/api/v1/scoring``: rules vs model vs ``leads.score``.

The API's metrics are checked against scikit-learn's on the same test-cohort predictions (the library's
``predictions``, recomputed for the window the API reports), the calibration and decile rows against the cohort
size, and the ``start`` parameter (the split date) against the window it yields and the 422 it owes.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from revalign.analytics.scoring.comparison import ScoringBacktest
from revalign.definitions.scoring import DEFAULT_DIR
from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project, init_project, open_project
from revalign.simulate import simulate
from tests.interfaces.server.conftest import PASSWORD, assert_canonical_error, login

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("scoring-backtest")
    init_project(folder, engine_url="duckdb://:memory:")
    (folder / "scoring").mkdir()
    shutil.copyfile(DEFAULT_DIR / "simulator.yaml", folder / "scoring" / "lead_score.yaml")
    proj = open_project(folder)
    simulate(scale="xs", seed=4).write(proj.engine)
    yield proj
    proj.close()


@pytest.fixture(scope="module")
def client(project: Project, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    state = tmp_path_factory.mktemp("state") / "state.sqlite"
    app = create_app(project, state_url=f"sqlite:///{state}", settings=ServerSettings())
    app.state.store.add_user("boss", PASSWORD, "leadership")
    return login(TestClient(app), "boss")


@pytest.fixture(scope="module")
def body(client: TestClient) -> dict:
    plain = client.get("/api/v1/scoring").json()  # no model is fitted unless asked: a link at the default split
    assert "backtest" not in plain["meta"]
    start = plain["meta"]["backtest_link"]["start"]
    response = client.get(f"/api/v1/scoring?start={start}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def library(project: Project, body: dict) -> ScoringBacktest:
    """The library's backtest for the window the API reports (the same fit: the model is seeded)."""
    w = body["meta"]["backtest"]
    return project.scoring_backtest(
        split=dt.datetime.fromisoformat(w["split"]), as_of=dt.datetime.fromisoformat(w["as_of"])
    )


def rows(body: dict, name: str) -> list[dict]:
    return next(t for t in body["tables"] if t["name"] == name)["rows"]


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error with pandas' own binning (independent of the library's bincount)."""
    frame = pd.DataFrame({"y": y, "p": p, "b": pd.cut(p, np.linspace(0, 1, bins + 1), right=False, labels=False)})
    frame.loc[frame["p"] >= 1.0, "b"] = bins - 1
    g = frame.groupby("b").agg(n=("y", "size"), y=("y", "mean"), p=("p", "mean"))
    return float((g["n"] / len(frame) * (g["y"] - g["p"]).abs()).sum())


def test_the_default_window_comes_from_the_data(body: dict, project: Project) -> None:
    w = body["meta"]["backtest"]
    # the simulator's leads are created over 2024-2025: split at its middle, test to three quarters of it
    assert (w["split"], w["test_end"]) == ("2025-01-01T00:00:00", "2025-07-01T00:00:00")
    ledger = project.tables.to_pandas(project.table("ledger").select("recorded_at"))
    assert dt.datetime.fromisoformat(w["as_of"]) == ledger["recorded_at"].max() + pd.Timedelta(microseconds=1)


def test_metrics_equal_scikit_learn_on_the_same_predictions(body: dict, library: ScoringBacktest) -> None:
    pred = library.predictions
    y = pred["converted"].to_numpy().astype(int)
    shown = {r["score"]: r for r in rows(body, "model_metrics")}
    assert set(shown) == {"rules", "model", "current"}
    for name, row in shown.items():
        s = pred[name].to_numpy(dtype=float)
        keep = ~np.isnan(s)
        assert row["n"] == int(keep.sum()) and row["positives"] == int(y[keep].sum())
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y[keep], s[keep]), abs=1e-12)
        assert row["pr_auc"] == pytest.approx(average_precision_score(y[keep], s[keep]), abs=1e-12)
    p = pred["model"].to_numpy()
    assert shown["model"]["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert shown["model"]["ece"] == pytest.approx(ece(y, p), abs=1e-12)
    assert shown["rules"]["brier"] is None and shown["rules"]["ece"] is None  # points are not probabilities
    assert body["meta"]["backtest"]["test_leads"] == len(pred) > 0


def test_calibration_and_deciles_cover_the_test_cohort(body: dict, library: ScoringBacktest) -> None:
    pred = library.predictions
    calibration = rows(body, "calibration")
    assert sum(r["leads"] for r in calibration) == len(pred) == body["meta"]["backtest"]["test_leads"]
    for r in calibration:  # each bin's observed rate is the share of converted leads whose probability falls in it
        inside = pred[(pred["model"] >= r["lower"]) & ((pred["model"] < r["upper"]) | (r["upper"] == 1.0))]
        assert (len(inside), r["observed"]) == (r["leads"], pytest.approx(inside["converted"].mean()))
    deciles = rows(body, "deciles")
    assert sum(r["leads"] for r in deciles) == len(pred)
    assert sum(r["conversions"] for r in deciles) == int(pred["converted"].sum())
    assert sum(r["leads"] for r in rows(body, "backtest_bands")) == len(pred)


def test_the_threshold_sentence_and_numbers_are_formatted(body: dict, library: ScoringBacktest) -> None:
    t = library.threshold
    sentence = body["meta"]["backtest"]["threshold_sentence"]
    assert f"{t.threshold * 100:.1f}%" in sentence and "MQL" in sentence
    model = next(t for t in body["tables"] if t["name"] == "model_metrics")
    at = [r["score"] for r in model["rows"]].index("model")
    assert model["formatted"][at]["roc_auc"] == f"{model['rows'][at]['roc_auc']:.3f}"


def test_the_split_date_is_a_parameter(client: TestClient) -> None:
    chosen = client.get("/api/v1/scoring?start=2025-03-01").json()["meta"]["backtest"]
    assert chosen["split"] == "2025-03-01T00:00:00" and chosen["test_end"] == "2025-07-01T00:00:00"
    outside = assert_canonical_error(client.get("/api/v1/scoring?start=2023-01-01"), 422)
    assert outside["errors"][0]["loc"] == ["query", "start"] and "2024-01-01" in outside["error"]
    unknown = assert_canonical_error(client.get("/api/v1/scoring?split=2025-03-01"), 422)
    assert "split" in unknown["error"] and "start" in unknown["error"]
    page = client.get("/scoring?start=2025-03-01")
    assert page.status_code == 200 and 'id="calibration-chart"' in page.text and 'id="threshold-advice"' in page.text
    assert 'id="backtest-link"' in client.get("/scoring").text
    assert client.get("/scoring?split=2025-03-01").status_code == 422
