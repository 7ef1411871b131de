"""The planner page and ``/api/v1/planner``: the reverse funnel for a revenue target (docs/planner.md).

No arithmetic here: :meth:`Project.revenue_plan` computes the plan; this arranges its tables (stages, channels,
capacity) for the page and its JSON twin.
"""

from __future__ import annotations

import pandas as pd

from revalign.analytics.planner import RevenuePlan
from revalign.interfaces.server.errors import BadRequest, NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, require_data
from revalign.project import Project

ACCEPTS = ("period",)
"""The common filters the planner honours besides ``target`` and ``history_months``."""
STAGE_COLUMNS = ["stage", "kpi", "value", "unit", "rate", "rate_meaning", "lag_months", "due"]


def capacity_frame(plan: RevenuePlan) -> pd.DataFrame:
    """The quota capacity check as one row (empty when the project has no quotas)."""
    cap = plan.capacity
    if cap is None or not cap.reps:
        return pd.DataFrame(columns=["reps", "quota", "average_quota", "coverage", "reps_needed", "shortfall"])
    row = {k: v for k, v in cap.to_dict().items() if k not in ("target", "ok", "basis")}
    return pd.DataFrame([{**row, "carries_target": cap.ok, "basis": cap.basis}])


def planner(project: Project, filters: Filters, target: float, history_months: int) -> Report:
    """The plan for ``target`` new revenue in the filters' period: stages, leads and spend per channel, capacity."""
    require_data(project, "Planner")
    if not filters.period:
        raise NotAvailable("Planner", "give a period to plan, e.g. period=2026-Q3 (a month, a quarter or a year).")
    try:
        plan = project.revenue_plan(target, filters.period, history_months=history_months)
    except ValueError as exc:  # a period the planner cannot plan (a week, a day): the reader's input, a 422
        raise BadRequest(str(exc), loc=("query", "period"), rule="plan_period") from exc
    report = Report(page="planner", title=f"Plan for {plan.period.label}")
    title = f"Reverse funnel for {target:,.0f} new revenue in {plan.period.label}"
    report.add("plan", title, plan.stages[STAGE_COLUMNS])
    report.add("channels", f"Leads and spend per channel (total {plan.total_spend:,.2f})", plan.channels)
    report.add("capacity", "Quota capacity", capacity_frame(plan))
    capacity_notices = plan.capacity.notices if plan.capacity is not None else ()
    report.notices.extend(n for n in plan.notices if n not in capacity_notices)  # quota totals: in their own table
    report.meta.update(
        target=plan.target,
        period=plan.period.label,
        rates=plan.rates.to_dict() | {"channels": None},
        total_spend=plan.total_spend,
        units={"capacity": {"coverage": "percent", "average_quota": "currency", "reps_needed": "count"}},
        charts=[
            {"table": "channels", "x": "channel", "y": "leads", "kind": "bar", "title": "Leads needed per channel"}
        ],
    )
    return report


__all__ = ["ACCEPTS", "capacity_frame", "planner"]
