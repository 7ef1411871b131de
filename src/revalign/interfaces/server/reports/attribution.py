"""The attribution page: revenue and conversions credited to each channel by each model, side by side."""

from __future__ import annotations

from revalign.interfaces.server.errors import NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, period_range, require_data
from revalign.project import Project

PAGE_MODELS = ("first_touch", "last_touch", "linear", "position_based", "w_shaped", "time_decay", "markov")
"""Models compared on the page by default: the rule models people know plus first-order Markov (the others are
available with ``models=``; all thirteen at once take minutes on a busy machine)."""


def attribution(project: Project, filters: Filters, models: tuple[str, ...] = PAGE_MODELS) -> Report:
    """Revenue and conversions credited to each channel by each attribution model, side by side."""
    require_data(project, "Attribution")
    if not project.engine.has_table("touchpoints"):
        raise NotAvailable("Attribution", "this project has no touchpoints loaded.")
    by = filters.by if filters.by in ("channel", "campaign") else "channel"
    start, end = period_range(filters)
    frame = project.attribution(by=by, models=list(models), start=start, end=end)
    report = Report(page="attribution", title="Attribution comparison")
    report.add("comparison", f"Credit by model and {by}", frame)
    key = by if by in frame.columns else "key"
    report.meta["charts"] = [
        {
            "table": "comparison",
            "x": key,
            "y": "revenue",
            "color": "model",
            "kind": "bar",
            "title": f"Credited revenue by {by} and model",
        }
    ]
    if filters.segment:
        report.notices.append("Attribution is computed over all segments (the segment filter does not apply here).")
    return report
