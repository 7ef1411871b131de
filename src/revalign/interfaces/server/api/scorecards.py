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
Template = Annotated[
    str | None,
    Query(
        pattern=r"^([a-z][a-z0-9_]{0,63})?$",
        description="A scorecard template of the catalog (its `scorecards:` entries): `idc` is IDC's Customer "
        "Creation Scorecard (eight KPIs: investment, staff efficiency, productivity levers); empty: none.",
    ),
]


def scorecard_report(
    project: Project, cache: ReportCache, department: str, filters: Filters, template: str | None = None
) -> Report:
    """The report the page and the API both show (computed once per department, template and filters, then
    cached)."""
    return cache.get_or_compute(
        ("scorecards", department, template, filters.key()),
        lambda: guarded("scorecards", "Scorecards", scorecard, project, department, filters, template),
    )


@router.get("", response_model=ReportPublic)
def get_scorecard(
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    department: Department = "joint",
    template: Template = None,
    fmt: Format = "json",
    table: TableName = None,
):
    template = template or None  # the page's form sends an empty value for "none"
    card = scorecard_report(project, cache, department, filters, template)
    report = private_rows(project.catalog, card, scope_of(project, cache, user))  # pay KPIs' rows per viewer
    params = {**filters.as_dict(), "department": department, **({"template": template} if template else {})}
    return report_response(report, params, fmt, table, project)
