"""The scoring page: how the agreed lead score spreads, how its bands convert, and what sales says about its MQLs.

The numbers are the latest applied run's (``revalign score apply``: its model version and moment), or, before any
run, the project's newest model version scored as of now, with a notice saying so. ``end`` scores as of the end of
that day instead. Versions and their approvals are the page's own section (:mod:`..pages.scoring`), read from the
app state, not from the report.
"""

from __future__ import annotations

import datetime as dt

from revalign.interfaces.server.errors import NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, require_data
from revalign.project import Project

ACCEPTS = ("end",)
"""The filters the page honours: ``end``, the day the scores are as of."""
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
    return report
