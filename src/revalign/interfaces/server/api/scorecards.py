"""``GET /api/v1/scorecards``: a department's scorecard, or the joint one (JSON, or a table as CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, Format, KnownParameters, TableName, filters_for
from revalign.interfaces.server.privacy import private_rows, scope_of
from revalign.interfaces.server.reports.report import DepartmentName, Report, guarded
from revalign.interfaces.server.reports.scorecards import ACCEPTS, scorecard
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

router = APIRouter(prefix="/scorecards", tags=["scorecards"], responses=ERROR_RESPONSES, dependencies=[KnownParameters])
PageFilters = Annotated[Filters, Depends(filters_for(*ACCEPTS))]
"""The filters the Scorecards page and API honour besides ``department``."""
Department = Annotated[
    DepartmentName,
    Query(description="Whose scorecard; 'joint' is the shared one tied to the north star."),
]


def scorecard_report(project: Project, cache: ReportCache, department: str, filters: Filters) -> Report:
    """The report the page and the API both show (computed once per department and filters, then cached)."""
    return cache.get_or_compute(
        ("scorecards", department, filters.key()),
        lambda: guarded("scorecards", "Scorecards", scorecard, project, department, filters),
    )


@router.get("", response_model=ReportPublic)
def get_scorecard(
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    department: Department = "joint",
    fmt: Format = "json",
    table: TableName = None,
):
    card = scorecard_report(project, cache, department, filters)
    report = private_rows(project.catalog, card, scope_of(project, cache, user))  # pay KPIs' rows per viewer
    return report_response(report, {**filters.as_dict(), "department": department}, fmt, table, project)
