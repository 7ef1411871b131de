"""The Attribution page: the same report as ``/api/v1/attribution``, laid out with charts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.attribution import attribution_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import FiltersDep
from revalign.interfaces.server.pages.rendering import render

router = APIRouter()


@router.get("/attribution", response_class=HTMLResponse)
def attribution_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: FiltersDep):
    report = attribution_report(project, cache, filters)
    return render(request, "report.html", report, filters=filters, api_path="/api/v1/attribution")
