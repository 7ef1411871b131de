"""The incentives page: the comp plan, what it pays for gaming, the alignment of pay, a plan comparison, and the
payout statements the viewer may see.

The report is computed once per filter set for everyone (``viewer=None``: the façade's trusted caller) and cached;
:func:`private_incentives` then cuts a copy per viewer with the library's pay-privacy rule
(:mod:`revalign.analytics.privacy`): rows about a person (statements, payouts, gains, payout vs contribution) are
kept for the people in the viewer's scope (their own, their reports', everyone's for finance, RevOps and admin);
figures summed over many people (the plan's total cost and distribution, the comparison, the actions' total gains)
are for the pay-data roles only. The plan itself (its measures, weights and what it pays per gaming action) is pay
data too (:mod:`revalign.analytics.privacy`): shown to the people it pays (someone in the viewer's scope was paid
under it) and so to their managers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from revalign.analytics.privacy import PayScope, visible_values
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.privacy import narrowed, per_scope
from revalign.interfaces.server.reports.covers import covers
from revalign.interfaces.server.reports.report import Report, fiscal_start, require_data
from revalign.project import Project

ACCEPTS = ("start", "end", "period")
"""The date filters the page honours, besides ``plan`` and ``compare`` (any other is a 422 naming it)."""
PERSON_TABLES = ("gains", "people", "payouts", "statements")
"""Tables with one row per person (``user_id``): cut to the viewer's pay scope."""
AGGREGATE_TABLES = ("alignment", "compare")
"""Tables of figures over many people: for the pay-data roles only."""
AGGREGATE_COLUMNS = {"actions": ("total_gain", "max_gain")}
"""Columns over many people in a table everyone sees: left out for the others."""
PLAN_TABLES = ("measures", "actions")
"""The plan itself and what it pays per gaming action: pay data of the people it pays (their managers see it)."""
PLAN_NOTICE = "The comp plan is shown to the people it pays, their managers, and the finance, RevOps and admin roles."
AGGREGATE_NOTICE = (
    "The plan's total cost, its distribution, the comparison of plans and the actions' total gains sum many "
    "people's pay: they are shown to the finance, RevOps and admin roles."
)


@dataclass(frozen=True)
class IncentivesFilters(Filters):
    """The page's filters plus the plan shown (``plan``; default: the only plan) and one to compare it with."""

    plan: str | None = None
    compare: str | None = None


def _plan_meta(project: Project, name: str | None) -> dict[str, Any]:
    spec = project.comp_plan(name)
    return {
        "name": spec.name,
        "version": spec.version,
        "description": spec.description,
        "roles": list(spec.roles),
        "period": spec.period,
        "north_star_share": spec.north_star_share,
    }


def incentives(project: Project, filters: Filters) -> Report:
    """Everything the page shows, for everyone (cut per viewer by :func:`private_incentives`)."""
    require_data(project, "Incentives")
    chosen = filters if isinstance(filters, IncentivesFilters) else IncentivesFilters()
    start, end = filters.dates(fiscal_start(project))
    plan = project.comp_plan(chosen.plan)
    check = project.comp_check(plan, start=start, end=end)
    report = Report(page="incentives", title=f"Incentives: {plan.name} v{plan.version}")
    report.add("measures", "The plan's measures (flagged: not tied to the north star)", check.measures)
    report.add("actions", "Perverse-incentive check: what the plan pays for each gaming action", check.actions)
    report.add("gains", "Flagged gains, person by person and deal by deal", check.gains)
    names = [plan.name] + ([chosen.compare] if chosen.compare else [])
    compared = project.comp_compare(names, viewer=None, start=start, end=end)
    report.add("alignment", "Alignment of pay", compared.summary.head(1))
    mine = compared.people[compared.people["plan"] == compared.summary["plan"].iloc[0]].drop(columns="plan")
    report.add("people", "Payout vs audited contribution to the north star", mine.reset_index(drop=True))
    if chosen.compare:
        report.add("compare", f"{plan.name} compared with {chosen.compare}", compared.summary)
    pay = project.comp_payouts(plan, viewer=None, start=start, end=end)
    report.add("payouts", "Payouts per person and period", pay.totals)
    report.add("statements", "Payout statements (line items)", pay.statements)
    report.meta["plan"] = _plan_meta(project, plan.name)
    report.meta["headline"] = "measures"
    report.meta["covers"] = covers(start, end, filters.period)
    return report


def private_incentives(report: Report, scope: PayScope) -> Report:
    """``report`` as a viewer with ``scope`` may see it (see the module docstring); the cached report is kept."""
    if scope.everyone or not report.available:
        return report
    return per_scope(report, "incentives", scope, lambda: _private_incentives(report, scope))


def _private_incentives(report: Report, scope: PayScope) -> Report:
    paid = report.tables.get("payouts", ("", pd.DataFrame(columns=["user_id"])))[1]
    member = bool(scope.owners & set(paid["user_id"].dropna().astype(str)))
    tables: dict[str, tuple[str, pd.DataFrame]] = {}
    hidden = 0
    for key, (title, frame) in report.tables.items():
        if key in PLAN_TABLES and not member:
            continue
        if key in PERSON_TABLES:
            visible = visible_values(frame, scope, owner_column="user_id")
            tables[key], hidden = (title, visible.frame), hidden + visible.hidden
        elif key in AGGREGATE_TABLES:
            continue
        else:
            tables[key] = (title, frame.drop(columns=list(AGGREGATE_COLUMNS.get(key, ())), errors="ignore"))
    shown = narrowed(report, tables, hidden)
    shown.notices.append(AGGREGATE_NOTICE)
    if not member:
        shown.meta.pop("plan", None)
        shown.notices.append(PLAN_NOTICE)
    return shown


__all__ = ["ACCEPTS", "IncentivesFilters", "incentives", "private_incentives"]
