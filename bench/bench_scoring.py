"""Predictive lead scoring of every lead (1M at scale l): features on the engine, then a calibrated model.

Data: the simulated company at the requested scale (``bench.data``), loaded into a DuckDB file once (setup,
not timed). A gradient-boosting model is fitted once (setup, not timed) on the leads created before 2025-01-01
as of 2025-07-01, and saved.

- Features (timed): ``lead_features(tables, as_of=export)`` — every lead's feature row built by Ibis on
  DuckDB (ledger, touchpoints and leads joined as of each lead's scoring time); only the one-row-per-lead
  matrix reaches pandas.
- Features + predict (timed): the same, then ``predict_proba`` of the saved model over every lead.

Both return the number of leads scored and the number of features, which must agree.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from bench.measure import measure, table

TITLE = "Predictive lead scoring (features on the engine + calibrated model, every lead)"
AS_OF = dt.datetime(2026, 1, 1)


def build_features(db: str) -> tuple[int, int]:
    from revalign.analytics.scoring.features import FEATURES, lead_features
    from revalign.engine import connect
    from revalign.model.access import Tables

    engine = connect(f"duckdb://{db}", read_only=True)
    frame = lead_features(Tables(engine), as_of=AS_OF)
    engine.close()
    return len(frame), len(FEATURES)


def score_all(db: str, model_path: str) -> tuple[int, int]:
    from revalign.analytics.scoring.features import lead_features
    from revalign.analytics.scoring.model import load_model
    from revalign.engine import connect
    from revalign.model.access import Tables

    engine = connect(f"duckdb://{db}", read_only=True)
    frame = lead_features(Tables(engine), as_of=AS_OF)
    engine.close()
    model, _ = load_model(model_path)
    features = list(model.feature_names_in_)
    scores = model.score_leads(frame[features])
    return len(scores), len(features)


def fit_model(db: str, model_path: str) -> int:
    """Fit and save the model scored in the benchmark (setup, not timed)."""
    from revalign.analytics.scoring.features import FEATURES, TARGET, lead_features
    from revalign.analytics.scoring.model import LeadScoreModel
    from revalign.engine import connect
    from revalign.model.access import Tables

    engine = connect(f"duckdb://{db}", read_only=True)
    train = lead_features(Tables(engine), as_of=dt.datetime(2025, 7, 1), created_before=dt.datetime(2025, 1, 1))
    engine.close()
    features = [f for f in FEATURES if f not in ("n_sales", "n_demo_request")]
    LeadScoreModel("gbm").fit(train[features], train[TARGET].astype(int)).save(model_path)
    return len(train)


def main(scale: str = "l", runs: int = 3) -> str:
    from bench.data import load_scale
    from revalign.engine import connect

    work = Path(tempfile.mkdtemp(prefix="revalign-bench-scoring-"))
    db = str(work / "bench.duckdb")
    engine = connect(f"duckdb://{db}")
    rows = load_scale(engine, scale)
    engine.close()
    model_path = str(work / "model.pkl")
    trained = fit_model(db, model_path)
    feats = measure("features on the engine (Ibis on DuckDB)", "bench.bench_scoring:build_features", db, runs=runs)
    full = measure("features + predict_proba", "bench.bench_scoring:score_all", db, model_path, runs=runs)
    out = [
        f"Data: {rows['leads']:,} leads, {rows['touchpoints']:,} touchpoints, {rows['ledger']:,} ledger events. "
        f"Model: gradient boosting, isotonic calibration, fitted on {trained:,} leads (setup, not timed). "
        f"Leads scored: features {feats.result[0]:,}, scored {full.result[0]:,} "
        f"({'identical' if feats.result[0] == full.result[0] else 'DIFFERENT'}).\n",
        table(
            [
                {
                    "step": m.label,
                    "median s": f"{m.median:.2f}",
                    "runs s": ", ".join(f"{x:.2f}" for x in m.seconds),
                    "peak MiB": f"{m.peak_mib:,.0f}",
                }
                for m in (feats, full)
            ]
        ),
        f"\nScoring every lead takes {full.median:.1f} s, of which building the features on the engine is "
        f"{feats.median:.1f} s; only the one-row-per-lead feature matrix reaches pandas.\n",
    ]
    return "\n".join(out)
