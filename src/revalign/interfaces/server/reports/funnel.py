"""The funnel page: lead to customer in cohort mode (step counts, conversion rates, days between steps)."""

from __future__ import annotations

from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, period_range, require_data
from revalign.project import Project


def funnel(project: Project, filters: Filters) -> Report:
    """The lead-to-customer funnel (cohort mode): step counts, conversion rates and days between steps."""
    require_data(project, "The funnel")
    by = tuple(d for d in (filters.by,) if d)
    start, end = period_range(filters)
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
    report.meta.update(
        funnel=result.funnel,
        mode=result.mode,
        charts=[
            {"table": "totals", "x": "step", "y": "converted", "kind": "bar", "title": "Entities reaching each step"}
        ],
    )
    return report
