"""The Funnel page: the same report as ``/api/v1/funnel``, laid out with charts."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.funnel import PageFilters, funnel_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.reports.funnel import ACCEPTS, FunnelKey

router = APIRouter()


@router.get("/funnel", response_class=HTMLResponse, dependencies=[KnownParameters])
def funnel_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: PageFilters):
    report = funnel_report(project, cache, filters)
    extra = {"controls": ACCEPTS, "by_options": get_args(FunnelKey)}
    return render(request, "report.html", report, filters=filters, api_path="/api/v1/funnel", extra=extra)
