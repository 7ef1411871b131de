"""The funnel page: lead to customer in cohort mode (step counts, conversion rates, days between steps), and the
new-business pipeline (created, won, win rate, new revenue; renewals and expansions in their own columns)."""

from __future__ import annotations

from typing import Literal

from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.covers import covers
from revalign.interfaces.server.reports.report import Report, fiscal_start, require_data
from revalign.project import Project

ACCEPTS = ("start", "end", "period", "grain", "by", "segment")
"""The filters the page honours (any other is a 422 naming it)."""
FunnelKey = Literal["channel", "segment", "region", "owner", "campaign", "industry", "lead_source"]
"""The lead dimensions the funnel can be broken down by (a lead has no team)."""
LEAD_COLUMNS = {"owner": "owner_id", "campaign": "campaign_id"}
"""The plain names the filters use for the lead columns they mean."""


def funnel(project: Project, filters: Filters) -> Report:
    """The lead-to-customer funnel (cohort mode) and the pipeline by period, over the dates asked for."""
    require_data(project, "The funnel")
    by = tuple(LEAD_COLUMNS.get(d, d) for d in (filters.by,) if d)
    start, end = filters.dates(fiscal_start(project))
    chosen = {"segment": [filters.segment]} if filters.segment else None
    result = project.funnel(
        "lead_to_customer", mode="cohort", grain=filters.grain, by=by, start=start, end=end, filters=chosen
    )
    report = Report(page="funnel", title="Funnel: lead to customer")
    steps = result.to_pandas()
    sliced = filters.grain is not None or bool(by)
    totals = result.totals() if sliced else steps
    report.add("totals", "All cohorts", totals.reset_index(drop=True))
    if sliced:
        report.add("steps", "By cohort" + (f" and {', '.join(by)}" if by else ""), steps.reset_index(drop=True))
    if not filters.segment and not by:  # the pipeline has no segment or lead dimension to slice by
        pipeline = project.pipeline(grain=filters.grain or "quarter", start=start, end=end)
        report.add("pipeline", "Pipeline by period (new business; renewals and expansions beside)", pipeline)
    report.meta.update(
        funnel=result.funnel,
        mode=result.mode,
        covers=covers(start, end, filters.period),
        charts=[
            {"table": "totals", "x": "step", "y": "converted", "kind": "bar", "title": "Entities reaching each step"}
        ],
    )
    return report
