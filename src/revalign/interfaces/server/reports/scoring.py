"""The scoring page: how the agreed lead score spreads, how its bands convert, and what sales says about its MQLs.

The numbers are the latest applied run's (``revalign score apply``: its model version and moment), or, before any
run, the project's newest model version scored as of now, with a notice saying so. ``end`` scores as of the end of
that day instead. Versions and their approvals are the page's own section (:mod:`..pages.scoring`), read from the
app state, not from the report.

The "Model and calibration" section (:meth:`revalign.project.Project.scoring_backtest`) compares, on the leads
created from ``start`` (the split date) to the test end, the same rule version's points, a calibrated model fitted
on the leads created before ``start``, and the CRM's ``leads.score``; outcomes as of ``end`` (its end), else the
last change recorded. Without ``start`` the window comes from the data (first of the month nearest the middle of
the leads' creation span; the test runs to three quarters of it). A ``start`` outside the data is a 422.
"""

from __future__ import annotations

import datetime as dt

from revalign.analytics.scoring.comparison import ScoringBacktest
from revalign.definitions.scoring import ScoringModel
from revalign.display import format_value
from revalign.errors import ConfigError
from revalign.interfaces.server.errors import BadRequest, NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, require_data
from revalign.project import Project

ACCEPTS = ("end", "start")
"""The filters the page honours: ``end``, the day the scores (and the backtest's outcomes) are as of; ``start``,
the backtest's split date (first day of the test cohort)."""
MODEL_TABLES = ("model_metrics", "calibration", "deciles", "backtest_bands")
"""The tables of the "Model and calibration" section, in display order."""
UNITS = {
    "distribution": {"bucket": "score"},
    "rejections": {"reason_share": "percent"},
    "rules": {
        "mqls_with": "count",
        "rejected_with": "count",
        "converted_with": "count",
        "mqls_without": "count",
        "rejected_without": "count",
        "rejection_rate_with": "percent",
        "rejection_rate_without": "percent",
        "conversion_rate_with": "percent",
        "lift": "ratio",
    },
    "model_metrics": {
        "n": "count",
        "positives": "count",
        "roc_auc": "number",
        "pr_auc": "number",
        "brier": "number",
        "ece": "number",
        "top_decile_lift": "ratio",
    },
    "calibration": {
        "lower": "percent",
        "upper": "percent",
        "leads": "count",
        "predicted": "percent",
        "observed": "percent",
    },
    "deciles": {
        "decile": "count",
        "leads": "count",
        "conversions": "count",
        "min_score": "percent",
        "max_score": "percent",
        "conversion_rate": "percent",
        "lift": "ratio",
        "cumulative_capture": "percent",
    },
    "backtest_bands": {"leads": "count", "converted": "count", "conversion_rate": "percent"},
}


def scoring(project: Project, filters: Filters) -> Report:
    """Score distribution, bands vs conversion, and sales' rejections by band, reason and rule."""
    require_data(project, "Lead scoring")
    if not project.scoring_models():
        raise NotAvailable("Lead scoring", "this project has no scoring model yet: add scoring/<name>.yaml.")
    runs = project.scoring_runs()
    report = Report(page="scoring", title="Lead scoring")
    if len(runs):
        last = runs.iloc[0]
        model = project.scoring_model(str(last["model"]), int(last["version"]))
        as_of = last["scored_at"].to_pydatetime()
        report.notices.append(f"Scores of {model.key} as applied as of {as_of:%Y-%m-%d %H:%M}.")
    else:
        model = project.scoring_model()
        as_of = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        report.notices.append(f"No scores applied yet: {model.key} (newest) scored as of now, as a preview.")
    if filters.end is not None:
        as_of = dt.datetime.combine(filters.end, dt.time(23, 59, 59, 999999))
    summary = project.scoring_summary(model, as_of)
    backtest = _backtest(report, project, model, filters)
    report.add("bands", f"Bands of {model.key}: leads, MQLs and conversion to opportunity", summary.bands)
    report.add("distribution", "Leads by score (buckets of 10 points)", summary.distribution)
    report.add("rejections", "Rejected MQLs by band and reason", summary.rejections_by_band)
    report.add("rules", "Sales' decisions on MQLs by rule", summary.rejections_by_rule)
    report.meta.update(
        {
            "headline": "bands",
            "model": model.name,
            "version": model.version,
            "as_of": summary.as_of.isoformat(),
            "mql_threshold": model.mql_threshold,
            "leads": summary.leads,
            "mqls": summary.mqls,
            "units": UNITS,
            "charts": [
                {"table": "distribution", "x": "bucket", "y": "leads", "kind": "bar", "title": "Score distribution"},
                {"table": "bands", "x": "band", "y": "conversion_rate", "kind": "bar", "title": "Conversion by band"},
            ],
        }
    )
    if backtest is not None:
        _add_backtest(report, backtest)
    return report


def _backtest(report: Report, project: Project, model: ScoringModel, filters: Filters) -> ScoringBacktest | None:
    """The backtest of ``model``'s rules vs the model vs ``leads.score`` when the reader asked for it (``start``,
    the split); otherwise a link to it at the data's default split (``meta.backtest_link``), since the fit takes
    about a minute at 6,000 leads on a small machine. A 422 naming ``start`` when the chosen split cannot hold one."""
    as_of = dt.datetime.combine(filters.end, dt.time(23, 59, 59, 999999)) if filters.end is not None else None
    if filters.start is None:  # fitting a model takes a minute on a large project: only when asked, with ?start=
        try:
            window = project.scoring_window(as_of=as_of)
        except ConfigError as exc:
            report.notices.append(f"Model and calibration: not available for this data: {exc}")
            return None
        report.meta["backtest_link"] = {"start": window.split.date().isoformat()}
        return None
    split = dt.datetime.combine(filters.start, dt.time())
    try:
        return project.scoring_backtest(model.name, model.version, split=split, as_of=as_of)
    except ConfigError as exc:
        if split is not None:
            raise BadRequest(str(exc), loc=("query", "start"), rule="backtest_window") from exc
        report.notices.append(f"Model and calibration: not available for this data: {exc}")
        return None


def threshold_sentence(result: ScoringBacktest) -> str:
    """The capacity threshold in words, every number through :mod:`revalign.display`."""
    t, reps, per_rep, sla_hours = result.threshold, result.reps, result.mqls_per_rep_per_week, result.sla_hours
    conversions = (
        f", holding {format_value(t.expected_conversion_share, 'percent')} of the expected conversions"
        if t.expected_conversion_share is not None
        else ""
    )
    return (
        f"With {format_value(reps, 'count')} reps working {format_value(per_rep, 'count')} MQLs a week each "
        f"({format_value(t.capacity_per_week, 'count')} a week) and a {format_value(sla_hours, 'hours')} follow-up "
        f"SLA, peak load is {format_value(t.peak_leads_per_week, 'count')} leads a week: make a lead an MQL at a "
        f"model probability of {format_value(t.threshold, 'percent')} or more (the top "
        f"{format_value(t.mql_share, 'percent')} of leads, about {format_value(t.expected_mqls_per_week, 'count')} "
        f"MQLs a week at peak){conversions}."
    )


def _add_backtest(report: Report, result: ScoringBacktest) -> None:
    """The "Model and calibration" section: tables, the lift chart, the window and the threshold advice."""
    w = result.window
    report.add(
        "model_metrics", f"Rules ({result.rules_model}) vs model ({result.kind}) vs current score", result.metrics
    )
    report.add("calibration", "Calibration of the model: predicted vs observed conversion", result.calibration)
    report.add("deciles", "Conversion and lift by model decile (1 = highest scores)", result.deciles)
    report.add("backtest_bands", f"Conversion of the test cohort by band of {result.rules_model}", result.bands)
    report.meta["charts"].append(
        {"table": "deciles", "x": "decile", "y": "lift", "kind": "bar", "title": "Lift by decile", "section": "model"}
    )
    report.meta["backtest"] = {
        "split": w.split.isoformat(),
        "test_end": w.test_end.isoformat(),
        "as_of": w.as_of.isoformat(),
        "kind": result.kind,
        "rules": result.rules_model,
        "train_leads": result.train_leads,
        "test_leads": result.test_leads,
        "tables": list(MODEL_TABLES),
        "threshold": dict(result.threshold.__dict__),
        "threshold_sentence": threshold_sentence(result),
    }
