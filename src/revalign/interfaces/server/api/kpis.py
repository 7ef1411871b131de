"""The KPI glossary and KPI values (``/api/v1/kpis``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from revalign.interfaces.server import reports
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, FiltersDep, Format, TableName
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.tabular import report_response

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=ERROR_RESPONSES)
KpiName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="KPI name, e.g. win_rate.")]


def glossary_report(project: Any, cache: Any) -> reports.Report:
    return cache.get_or_compute(("glossary",), lambda: reports.glossary(project))


def values_report(project: Any, cache: Any, name: str, filters: Filters) -> reports.Report:
    def compute() -> reports.Report:
        report = reports.Report(page="kpi", title=name)
        report.meta["kpi"] = reports.kpi_detail(project, name)
        try:
            report.add(
                "values",
                "Values",
                reports.with_drill(project, name, reports.evaluate(project, [name], filters), filters),
            )
            report.meta["drill"] = {"values": {"columns": ["value"]}}
            report.meta["charts"] = [
                {"table": "values", "x": "period_start", "y": "value", "kind": "line", "title": f"{name} by period"}
                | ({"color": filters.by} if filters.by else {})
            ]
        except reports.NotAvailable as exc:
            report.available = False
            report.notices.append(str(exc))
        return report

    return cache.get_or_compute(("kpi", name, filters.key()), compute)


@router.get("", response_model=ReportPublic)
def list_kpis(project: ProjectDep, cache: CacheDep, user: CurrentUser, fmt: Format = "json", table: TableName = None):
    """Every KPI in the catalog with its definition, formula, owner, targets, revisions and tree position."""
    return report_response(glossary_report(project, cache), {}, fmt, table)


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
    return report_response(values_report(project, cache, name, filters), filters.as_dict(), fmt, table)
