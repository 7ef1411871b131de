"""The Overview page: the same report as ``/api/v1/overview``, laid out with charts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.overview import PageFilters, overview_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.privacy import private_rows, scope_of
from revalign.interfaces.server.reports.disputes import banner, viewing
from revalign.interfaces.server.reports.overview import ACCEPTS

router = APIRouter()


@router.get("/", response_class=HTMLResponse, dependencies=[KnownParameters])
def overview_page(
    request: Request, project: ProjectDep, cache: CacheDep, store: StoreDep, user: CurrentUser, filters: PageFilters
):
    report = private_rows(project.catalog, overview_report(project, cache, filters), scope_of(project, cache, user))
    extra = {"controls": ACCEPTS, "disputes_banner": banner(store, viewing(project, cache, user))}
    return render(request, "report.html", report, filters=filters, api_path="/api/v1/overview", extra=extra)
