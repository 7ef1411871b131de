"""The channels page: spend, leads, pipeline, new revenue and efficiency per channel (or campaign).

Revenue here is new revenue (won new-business deals, the catalog's ``new_revenue``); renewals and expansions
have no channel and are listed in their own table, never as a channel called ``unknown``.
"""

from __future__ import annotations

from typing import Literal

from revalign.analytics.revenue import revenue_by_deal_type
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.covers import covers
from revalign.interfaces.server.reports.report import Report, fiscal_start, require_data
from revalign.project import Project

ACCEPTS = ("start", "end", "period", "by")
"""The filters the page honours (any other is a 422 naming it)."""
ChannelKey = Literal["channel", "campaign"]
"""What a channels or attribution page can be broken down by."""


def channels(project: Project, filters: Filters) -> Report:
    """Channel productivity: spend, leads, pipeline, new revenue and efficiency per channel (or campaign)."""
    require_data(project, "Channel productivity")
    by = ("campaign_id",) if filters.by == "campaign" else ("channel",)
    start, end = filters.dates(fiscal_start(project))
    report = Report(page="channels", title="Channels")
    for mode in ("sourced", "influenced"):
        frame = project.channels(by=by, attribution=mode, start=start, end=end)
        report.add(mode, f"{mode.capitalize()} by {by[0].replace('_id', '')} (new business)", frame)
    report.add(
        "deal_types",
        "Won revenue by deal type (renewals and expansions are not channel revenue)",
        revenue_by_deal_type(project.tables, start=start, end=end),
    )
    report.meta["covers"] = covers(start, end, filters.period)
    report.meta["charts"] = [
        {"table": "sourced", "x": by[0], "y": "revenue", "kind": "bar", "title": f"Sourced new revenue by {by[0]}"}
    ]
    return report
