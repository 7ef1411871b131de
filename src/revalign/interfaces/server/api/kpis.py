"""The KPI glossary and KPI values (``/api/v1/kpis``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, FiltersDep, Format, TableName
from revalign.interfaces.server.reports.glossary import glossary, kpi_report
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=ERROR_RESPONSES)
KpiName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="KPI name, e.g. win_rate.")]


def glossary_report(project: Project, cache: ReportCache) -> Report:
    return cache.get_or_compute(("glossary",), lambda: glossary(project))


def values_report(project: Project, cache: ReportCache, name: str, filters: Filters) -> Report:
    """One KPI's page and JSON (computed once per KPI and filters, then cached)."""
    return cache.get_or_compute(("kpi", name, filters.key()), lambda: kpi_report(project, name, filters))


@router.get("", response_model=ReportPublic)
def list_kpis(project: ProjectDep, cache: CacheDep, user: CurrentUser, fmt: Format = "json", table: TableName = None):
    """Every KPI in the catalog with its definition, formula, owner, targets, revisions and tree position."""
    return report_response(glossary_report(project, cache), {}, fmt, table, project)


@router.get("/{name}", response_model=ReportPublic)
def kpi_values(
    name: KpiName,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: FiltersDep,
    fmt: Format = "json",
    table: TableName = None,
):
    """One KPI: its glossary entry (``meta.kpi``) and its values per period (and dimension)."""
    return report_response(values_report(project, cache, name, filters), filters.as_dict(), fmt, table, project)
