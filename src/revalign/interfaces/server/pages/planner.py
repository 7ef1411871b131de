"""The planner page: a revenue target and period in, the reverse funnel out (same report as ``/api/v1/planner``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revalign.analytics.planner import DEFAULT_HISTORY_MONTHS
from revalign.interfaces.server.api.planner import HistoryMonths, PageFilters, planner_report, visible_plan
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.privacy import scope_of
from revalign.interfaces.server.reports.report import Report

router = APIRouter()
ASK_FOR_A_TARGET = Report(
    page="planner",
    title="Planner",
    available=False,
    notices=["Give a revenue target and a period (2026-Q3, 2026-07 or 2026) to plan for."],
)
"""The page before a target is given: one report for every request (so its rendered page is cached too)."""
CONTROLS = ("period", "target", "history_months")
OptionalTarget = Annotated[float | None, Query(gt=0, le=1e15, description="Revenue target for the period.")]


@router.get("/planner", response_class=HTMLResponse, dependencies=[KnownParameters])
def planner_page(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    target: OptionalTarget = None,
    history_months: HistoryMonths = DEFAULT_HISTORY_MONTHS,
):
    if target is None or not filters.period:
        report = ASK_FOR_A_TARGET
    else:
        report = planner_report(project, cache, filters, target, history_months)
        report = visible_plan(report, scope_of(project, cache, user))
    extra = {"controls": CONTROLS, "plan_target": target, "history_months": history_months}
    return render(request, "report.html", report, filters=filters, api_path="/api/v1/planner", extra=extra)
