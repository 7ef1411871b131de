"""The KPI glossary: every KPI's definition, formula, owner, targets, revisions and place in the tree."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.kpis import KpiName, glossary_report, values_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import FiltersDep, KnownParameters
from revalign.interfaces.server.pages.rendering import render

router = APIRouter()


@router.get("/glossary", response_class=HTMLResponse, dependencies=[KnownParameters])
def glossary_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser):
    return render(request, "glossary.html", glossary_report(project, cache, user), api_path="/api/v1/kpis")


@router.get("/glossary/{name}", response_class=HTMLResponse, dependencies=[KnownParameters])
def kpi_page(
    request: Request, name: KpiName, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: FiltersDep
):
    """One KPI's page, as its JSON twin: a pay KPI the user may not see is a 403 page, not a page of zeros."""
    report = values_report(project, cache, name, filters, user)
    return render(request, "kpi.html", report, filters=filters, api_path=f"/api/v1/kpis/{name}")
