"""The incentives page: the same report as ``/api/v1/incentives``, cut to what the logged-in person may see."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.incentives import PageFilters, incentives_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render

router = APIRouter()


@router.get("/incentives", response_class=HTMLResponse, dependencies=[KnownParameters])
def incentives_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: PageFilters):
    report = incentives_report(project, cache, user, filters)
    return render(request, "incentives.html", report, filters=filters, api_path="/api/v1/incentives")
