"""The Pipeline page: the same report as ``/api/v1/pipeline``, with the waterfall and the weekly line drawn."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.pipeline import PageFilters, cached_pipeline_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.reports.pipeline import ACCEPTS, SPLITS

router = APIRouter()


@router.get("/pipeline", response_class=HTMLResponse, dependencies=[KnownParameters])
def pipeline_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: PageFilters):
    report = cached_pipeline_report(project, cache, filters)
    extra = {"controls": ACCEPTS, "by_options": SPLITS}
    return render(request, "report.html", report, filters=filters, api_path="/api/v1/pipeline", extra=extra)
