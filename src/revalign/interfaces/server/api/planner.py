"""``GET /api/v1/planner``: the reverse-funnel plan for a revenue target and period (JSON, or one table as CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from revalign.analytics.planner import DEFAULT_HISTORY_MONTHS
from revalign.analytics.privacy import PayScope
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, Format, KnownParameters, TableName, filters_for
from revalign.interfaces.server.privacy import narrowed, per_scope, scope_of
from revalign.interfaces.server.reports.planner import ACCEPTS, planner
from revalign.interfaces.server.reports.report import Report, guarded
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

router = APIRouter(prefix="/planner", tags=["planner"], responses=ERROR_RESPONSES, dependencies=[KnownParameters])
PageFilters = Annotated[Filters, Depends(filters_for(*ACCEPTS))]
Target = Annotated[float, Query(gt=0, le=1e15, description="Revenue target (new revenue) for the period.")]
HistoryMonths = Annotated[int, Query(ge=1, le=60, description="Months of history the live rates are measured over.")]


def planner_report(
    project: Project, cache: ReportCache, filters: Filters, target: float, history_months: int
) -> Report:
    """The plan the page and the API both show (computed once per target, period and history, then cached)."""
    return cache.get_or_compute(
        ("planner", target, history_months, filters.key()),
        lambda: guarded("planner", "Planner", planner, project, filters, target, history_months),
    )


CAPACITY_NOTICE = (
    "The quota capacity check was hidden for privacy: quota totals are pay data over many people, shown to the "
    "finance, RevOps and admin roles."
)


def visible_plan(report: Report, scope: PayScope) -> Report:
    """The plan as ``scope`` may see it: the capacity table (quota totals over every rep) only for a viewer who sees
    everyone's pay data (docs/server.md, "Pay data")."""
    if scope.everyone or "capacity" not in report.tables:
        return report
    tables = {name: table for name, table in report.tables.items() if name != "capacity"}
    return per_scope(report, "plan", scope, lambda: narrowed(report, tables, 1, notice=CAPACITY_NOTICE))


@router.get("", response_model=ReportPublic)
def get_plan(
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    target: Target,
    history_months: HistoryMonths = DEFAULT_HISTORY_MONTHS,
    fmt: Format = "json",
    table: TableName = None,
):
    report = visible_plan(
        planner_report(project, cache, filters, target, history_months), scope_of(project, cache, user)
    )
    params = {**filters.as_dict(), "target": target, "history_months": history_months}
    return report_response(report, params, fmt, table, project)
