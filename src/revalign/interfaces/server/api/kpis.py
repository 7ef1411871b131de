"""The KPI glossary and KPI values (``/api/v1/kpis``), with pay KPIs shown only to whom they may be shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from revalign.analytics.privacy import check_kpi_access
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, FiltersDep, Format, KnownParameters, TableName
from revalign.interfaces.server.privacy import private_glossary, private_values, scope_of, viewer_of
from revalign.interfaces.server.reports.glossary import glossary, kpi_report
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.state import UserRecord
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=ERROR_RESPONSES)
KpiName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="KPI name, e.g. win_rate.")]


def glossary_report(project: Project, cache: ReportCache, user: UserRecord) -> Report:
    """The glossary (cached once) as ``user`` may see it: pay KPIs' targets only for whom they may be shown."""
    return private_glossary(project.catalog, cached_glossary(project, cache), scope_of(project, cache, user))


def cached_glossary(project: Project, cache: ReportCache) -> Report:
    """The whole glossary, computed once (what warming fills; cut per viewer by :func:`glossary_report`)."""
    return cache.get_or_compute(("glossary",), lambda: glossary(project))


def values_report(project: Project, cache: ReportCache, name: str, filters: Filters, user: UserRecord) -> Report:
    """One KPI's page and JSON as ``user`` may see it.

    A pay KPI the user may not ask for this way (its company-level value, for a rep) is refused before anything
    is computed (403); otherwise the report is computed once per KPI and filters, cached, and narrowed per user
    to the people whose pay they may see.
    """
    by = [d for d in (filters.by, "segment" if filters.segment else None) if d]
    check_kpi_access(project.catalog, viewer_of(user), name, by)
    report = cache.get_or_compute(("kpi", name, filters.key()), lambda: kpi_report(project, name, filters))
    return private_values(project.catalog, report, name, scope_of(project, cache, user))


@router.get("", response_model=ReportPublic, dependencies=[KnownParameters])
def list_kpis(project: ProjectDep, cache: CacheDep, user: CurrentUser, fmt: Format = "json", table: TableName = None):
    """Every KPI in the catalog with its definition, formula, owner, targets, revisions and tree position.

    ``sensitivity: pay`` marks compensation KPIs; their targets show only to whom their values may be shown.
    """
    return report_response(glossary_report(project, cache, user), {}, fmt, table, project)


@router.get("/{name}", response_model=ReportPublic, dependencies=[KnownParameters])
def kpi_values(
    name: KpiName,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: FiltersDep,
    fmt: Format = "json",
    table: TableName = None,
):
    """One KPI: its glossary entry (``meta.kpi``) and its values per period (and dimension).

    Pay KPIs (``sensitivity: pay``): finance, RevOps and admin see every value; anyone else only sliced by owner
    (``by=owner``), and only their own rows and their reports' (403 otherwise).
    """
    report = values_report(project, cache, name, filters, user)
    return report_response(report, filters.as_dict(), fmt, table, project)
