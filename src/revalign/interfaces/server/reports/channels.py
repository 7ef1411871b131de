"""The channels page: spend, leads, pipeline, revenue and efficiency per channel (or campaign)."""

from __future__ import annotations

from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, period_range, require_data
from revalign.project import Project


def channels(project: Project, filters: Filters) -> Report:
    """Channel productivity: spend, leads, pipeline, revenue and efficiency ratios per channel (or campaign)."""
    require_data(project, "Channel productivity")
    by = ("campaign_id",) if filters.by in ("campaign", "campaign_id") else ("channel",)
    start, end = period_range(filters)
    report = Report(page="channels", title="Channels")
    for mode in ("sourced", "influenced"):
        frame = project.channels(by=by, attribution=mode, start=start, end=end)
        report.add(mode, f"{mode.capitalize()} by {by[0].replace('_id', '')}", frame)
    frame = report.tables["sourced"][1]
    value = next((c for c in ("revenue", "pipeline", "leads") if c in frame.columns), None)
    if value:
        report.meta["charts"] = [
            {"table": "sourced", "x": by[0], "y": value, "kind": "bar", "title": f"Sourced {value} by {by[0]}"}
        ]
    if filters.segment:
        report.notices.append("Channel productivity covers every segment (the segment filter does not apply here).")
    return report
