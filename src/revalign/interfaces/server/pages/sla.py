"""The SLA page: the same report as ``/api/v1/sla`` (compliance, breach ledger, open clocks)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.sla import PageFilters, sla_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.reports.sla import ACCEPTS

router = APIRouter()


@router.get("/sla", response_class=HTMLResponse, dependencies=[KnownParameters])
def sla_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: PageFilters):
    report = sla_report(project, cache, filters)
    return render(request, "sla.html", report, filters=filters, api_path="/api/v1/sla", extra={"controls": ACCEPTS})
