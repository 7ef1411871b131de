"""``revalign score fit|backtest|explain-model``: the predictive lead score from the command line.

Two kinds of data:

- a project's canonical tables (``--project``): a time-based split, features built on the engine as of each
  lead's scoring time (``--split`` first day of the test cohort, ``--test-end`` its end, ``--as-of`` the
  export);
- a flat lead file (``--csv`` with ``--target`` and ``--positive``): a seeded, stratified 30 % hold-out.

The leakage guard refuses flagged features; ``--allow NAME`` lets one through on purpose, ``--drop NAME``
leaves a column out. Numbers come from :mod:`revalign.analytics.scoring`; this module only arranges them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from revalign.analytics.scoring.backtest import backtest as run_backtest
from revalign.analytics.scoring.backtest import compare_scores, stratified_split
from revalign.analytics.scoring.features import FEATURES, TARGET, backtest_frames
from revalign.analytics.scoring.flat import read_flat
from revalign.analytics.scoring.model import LeadScoreModel, load_model
from revalign.analytics.scoring.threshold import recommend_threshold
from revalign.definitions.issues import errors
from revalign.definitions.scoring_model import check_model_config
from revalign.errors import ConfigError
from revalign.interfaces.cli.render import console, emit, print_json
from revalign.interfaces.cli.score import score_app
from revalign.project import open_project

app = score_app  # the model's commands sit beside the rules' in the one `revalign score` group

Csv = Annotated[Path | None, typer.Option(help="A flat lead file (one row per lead) instead of a project.")]
Target = Annotated[str, typer.Option(help="Outcome column of --csv.")]
Positive = Annotated[str, typer.Option(help="Value of --target that means converted.")]
ProjectDir = Annotated[Path, typer.Option(help="Project folder (canonical tables).")]
Split = Annotated[str, typer.Option(help="First day of the test cohort (train: leads created before).")]
TestEnd = Annotated[str, typer.Option(help="End of the test cohort (exclusive); the model is fitted then.")]
AsOf = Annotated[str | None, typer.Option(help="When the test cohort's outcomes are read (default: now).")]
Kind = Annotated[str, typer.Option(help="gbm (gradient boosting) or logistic.")]
Allow = Annotated[list[str] | None, typer.Option(help="Let a flagged feature through (repeatable).")]
Drop = Annotated[list[str] | None, typer.Option(help="Leave a column out of the features (repeatable).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Config = Annotated[
    Path | None, typer.Option(help="scoring_model.yaml: kind, drop_features, allow_features (with reasons).")
]


def _day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _frames(
    csv: Path | None, target: str, positive: str, project: Path, split: str, test_end: str, as_of: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict[str, Any]]:
    """(train, test, feature columns, window metadata) with the outcome in column :data:`TARGET`."""
    if csv is not None:
        data = read_flat(csv, target, positive=positive)
        frame = data.X.assign(**{TARGET: data.y})
        train, test = stratified_split(frame, TARGET)
        return train, test, list(data.X.columns), {"data": str(csv), "split": "stratified 30% hold-out, seed 0"}
    tables = open_project(project, read_only=True).tables
    end = _day(as_of) if as_of else dt.datetime.now()
    train, test = backtest_frames(tables, split=_day(split), test_end=_day(test_end), as_of=end)
    window = {"data": str(project), "train_created_before": split, "test_created": [split, test_end], "as_of": end}
    return train, test, list(FEATURES), window


def _settings(
    config: Path | None, kind: str, allow: list[str] | None, drop: list[str] | None
) -> tuple[str, list[str], list[str]]:
    """(kind, allow, drop): the options, with a ``scoring_model.yaml``'s settings added (its kind wins)."""
    if config is None:
        return kind, list(allow or ()), list(drop or ())
    spec, issues = check_model_config(config.read_text(encoding="utf-8"), str(config))
    if spec is None or errors(issues):
        raise ConfigError("; ".join(str(i) for i in issues))
    return spec.kind, [*(allow or ()), *spec.allow], [*(drop or ()), *spec.drop_features]


def _fit(train: pd.DataFrame, features: list[str], kind: str, allow: list[str]) -> LeadScoreModel:
    model = LeadScoreModel(kind, allow=tuple(allow))  # type: ignore[arg-type]  # kind checked in fit
    return model.fit(train[features], train[TARGET].astype(int))


@app.command()
def fit(
    out: Annotated[Path, typer.Option(help="Where to write the model (a pickle; metadata beside it as .json).")],
    csv: Csv = None,
    target: Target = "Converted",
    positive: Positive = "1",
    project: ProjectDir = Path("."),
    split: Split = "2025-01-01",
    test_end: TestEnd = "2025-07-01",
    as_of: AsOf = None,
    kind: Kind = "gbm",
    allow: Allow = None,
    drop: Drop = None,
    config: Config = None,
    as_json: AsJson = False,
) -> None:
    """Fit a calibrated model, backtest it on the held-out leads, save it with its window and metrics."""
    kind, allowed, dropped = _settings(config, kind, allow, drop)
    train, test, features, window = _frames(csv, target, positive, project, split, test_end, as_of)
    features = [f for f in features if f not in set(dropped)]
    model = _fit(train, features, kind, allowed)
    result = run_backtest(test[TARGET].to_numpy(), model.score_leads(test[features]))
    meta = {"window": window, "train_rows": len(train), "test_rows": len(test), "metrics": result.metrics.as_dict()}
    sidecar = model.save(out, meta)
    if as_json:
        print_json(meta)
        return
    emit(pd.DataFrame([result.metrics.as_dict()]), as_json=False, title=f"{kind} on {len(test):,} held-out leads")
    console.print(f"Saved {out} and {sidecar}.")


@app.command()
def backtest(
    csv: Csv = None,
    target: Target = "Converted",
    positive: Positive = "1",
    project: ProjectDir = Path("."),
    split: Split = "2025-01-01",
    test_end: TestEnd = "2025-07-01",
    as_of: AsOf = None,
    kind: Kind = "gbm",
    allow: Allow = None,
    drop: Drop = None,
    compare: Annotated[list[str] | None, typer.Option(help="A column of the data to compare (repeatable).")] = None,
    reps: Annotated[int, typer.Option(help="Reps who work MQLs (threshold advice).")] = 5,
    per_rep: Annotated[float, typer.Option(help="MQLs one rep can work a week.")] = 40.0,
    sla_hours: Annotated[float, typer.Option(help="Follow-up SLA in hours.")] = 24.0,
    config: Config = None,
    as_json: AsJson = False,
) -> None:
    """Metrics, calibration, deciles, scores side by side, and an MQL threshold from sales capacity."""
    kind, allowed, dropped = _settings(config, kind, allow, drop)
    train, test, features, _ = _frames(csv, target, positive, project, split, test_end, as_of)
    features = [f for f in features if f not in set(dropped)]
    model = _fit(train, features, kind, allowed)
    y = test[TARGET].to_numpy().astype(int)
    p = model.score_leads(test[features])
    result = run_backtest(y, p)
    side = compare_scores(y, {"model": p, **{c: test[c].to_numpy(dtype=float) for c in compare or ()}})
    out: dict[str, pd.DataFrame] = {"compare": side, "calibration": result.calibration, "deciles": result.deciles}
    if "created_at" in test.columns:
        advice = recommend_threshold(
            p, test["created_at"], reps=reps, mqls_per_rep_per_week=per_rep, sla_hours=sla_hours
        )
        out["threshold"] = pd.DataFrame([advice.__dict__])
    if as_json:
        print_json({k: v.to_dict(orient="records") for k, v in out.items()})
        return
    for name, frame in out.items():
        emit(frame, as_json=False, title=name)


@app.command("explain-model")
def explain_model(
    model_path: Annotated[Path, typer.Argument(help="A model written by `score fit`.")],
    csv: Csv = None,
    target: Target = "Converted",
    positive: Positive = "1",
    project: ProjectDir = Path("."),
    split: Split = "2025-01-01",
    test_end: TestEnd = "2025-07-01",
    as_of: AsOf = None,
    top: Annotated[int, typer.Option(help="Reasons per lead.")] = 3,
    leads: Annotated[int, typer.Option(help="How many held-out leads to explain (highest scores first).")] = 10,
    as_json: AsJson = False,
) -> None:
    """The model's metadata, and the top reasons behind the highest held-out scores."""
    model, meta = load_model(model_path)
    _, test, _, _ = _frames(csv, target, positive, project, split, test_end, as_of)
    features = list(model.feature_names_in_)
    p = model.score_leads(test[features])
    chosen = test.assign(_p=p).sort_values("_p", ascending=False).head(leads)
    reasons = model.reasons(chosen[features], top=top)
    rows = [
        {"score": float(s), **{f"reason_{i + 1}": f"{r} ({v:+.2f})" for i, (r, v) in enumerate(rs)}}
        for s, rs in zip(chosen["_p"], reasons, strict=True)
    ]
    if as_json:
        print_json({"metadata": meta, "leads": rows})
        return
    console.print(f"{meta['kind']} model, features: {', '.join(meta['features'])}")
    emit(pd.DataFrame(rows), as_json=False, title="top reasons (log-odds)")
