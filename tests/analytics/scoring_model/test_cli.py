"""``revalign score fit|backtest|explain-model`` (the ``score_model`` Typer app) print the library's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from revalign.analytics.scoring.backtest import stratified_split
from revalign.analytics.scoring.flat import read_flat
from revalign.analytics.scoring.leakage import X_EDUCATION_SALES_FIELDS
from revalign.analytics.scoring.model import load_model
from revalign.interfaces.cli.score_model import app
from revalign.project import init_project, open_project
from revalign.simulate import simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def leads_csv(shared_data: Path) -> Path:
    return shared_data / "x_education_leads" / "Leads.csv"


def _drops() -> list[str]:
    return [arg for f in X_EDUCATION_SALES_FIELDS for arg in ("--drop", f)]


def test_fit_refuses_leaks_then_saves_the_library_figures(leads_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.pkl"
    refused = runner.invoke(app, ["fit", "--csv", str(leads_csv), "--out", str(out)])
    assert refused.exit_code != 0 and "Tags" in str(refused.exception)
    result = runner.invoke(app, ["fit", "--csv", str(leads_csv), "--out", str(out), *_drops(), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    # the saved model, scored on the same seeded hold-out and measured by scikit-learn, gives the printed AUC
    data = read_flat(leads_csv, "Converted")
    honest = [c for c in data.X.columns if c not in X_EDUCATION_SALES_FIELDS]
    _, test = stratified_split(data.X.assign(converted=data.y), "converted")
    model, _ = load_model(out)
    p = model.score_leads(test[honest])
    assert printed["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(test["converted"], p))
    assert printed["metrics"]["roc_auc"] >= 0.86
    meta = json.loads((tmp_path / "m.pkl.json").read_text())
    assert meta["features"] == honest and meta["window"]["split"].startswith("stratified 30%")

    explained = runner.invoke(app, ["explain-model", str(out), "--csv", str(leads_csv), "--leads", "3", "--json"])
    assert explained.exit_code == 0, explained.output
    rows = json.loads(explained.output)["leads"]
    assert len(rows) == 3 and rows[0]["score"] >= rows[-1]["score"] and "reason_1" in rows[0]


def test_backtest_on_a_project_with_threshold_advice(tmp_path: Path) -> None:
    init_project(tmp_path, engine_url="duckdb:///revalign.duckdb")
    project = open_project(tmp_path)
    simulate(scale="xs", seed=2).write(project.engine)
    project.close()
    args = ["backtest", "--project", str(tmp_path), "--kind", "logistic", "--drop", "n_sales"]
    refused = runner.invoke(app, [*args, "--as-of", "2026-01-01"])
    assert refused.exit_code != 0 and "n_demo_request" in str(refused.exception)
    args += ["--drop", "n_demo_request", "--as-of", "2026-01-01", "--compare", "current_score", "--json"]
    result = runner.invoke(app, [*args, "--reps", "2", "--per-rep", "10"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [r["score"] for r in out["compare"]] == ["model", "current_score"]
    assert sum(d["leads"] for d in out["deciles"]) == out["compare"][0]["n"]
    (advice,) = out["threshold"]
    assert advice["capacity_per_week"] == 20 and 0 < advice["mql_share"] <= 1
