"""The attribution page: new revenue and conversions credited to each channel by each model, side by side.

Conversions are won new-business deals (renewals and expansions are not acquisition), so the credited revenue of
each model sums to the catalog's ``new_revenue`` over the same dates."""

from __future__ import annotations

from revalign.interfaces.server.errors import NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.covers import covers
from revalign.interfaces.server.reports.report import Report, fiscal_start, require_data
from revalign.project import Project

PAGE_MODELS = ("first_touch", "last_touch", "linear", "position_based", "w_shaped", "time_decay", "markov")
"""Models compared on the page by default: the rule models people know plus first-order Markov (the others are
available with ``models=``; all thirteen at once take minutes on a busy machine)."""
ACCEPTS = ("start", "end", "period", "by")
"""The filters the page honours besides ``models`` (any other is a 422 naming it)."""


def attribution(project: Project, filters: Filters, models: tuple[str, ...] = PAGE_MODELS) -> Report:
    """Revenue and conversions credited to each channel by each attribution model, side by side."""
    require_data(project, "Attribution")
    if not project.engine.has_table("touchpoints"):
        raise NotAvailable("Attribution", "this project has no touchpoints loaded.")
    by = filters.by or "channel"
    start, end = filters.dates(fiscal_start(project))
    frame = project.attribution(by=by, models=list(models), start=start, end=end)
    report = Report(page="attribution", title="Attribution comparison")
    report.meta.update(covers=covers(start, end, filters.period), models=list(models))
    report.add("comparison", f"Credit by model and {by}", frame)
    key = by if by in frame.columns else "key"
    report.meta["charts"] = [
        {
            "table": "comparison",
            "x": key,
            "y": "revenue",
            "color": "model",
            "kind": "bar",
            "title": f"Credited new revenue by {by} and model",
        }
    ]
    return report
