"""The lead scoring page: the report of ``/api/v1/scoring`` plus the versions awaiting approval, with buttons.

The approve buttons post to ``/api/v1/scoring/approvals/{id}/sign`` from ``static/scoring.js`` (no inline
script: the CSP forbids it) with the session's CSRF token, then reload the page, which shows who signed and
when, and whether the version is in force.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.scoring import PageFilters, scoring_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.state.approvals import Approvals, department_of

router = APIRouter()


@router.get("/scoring", response_class=HTMLResponse, dependencies=[KnownParameters])
def scoring_page(
    request: Request, project: ProjectDep, cache: CacheDep, store: StoreDep, user: CurrentUser, filters: PageFilters
):
    report = scoring_report(project, cache, filters)
    extra = {
        "approvals": Approvals(store).proposals("scoring"),
        "my_department": department_of(user),
        "controls": ("end",),
    }
    return render(request, "scoring.html", report, filters=filters, api_path="/api/v1/scoring", extra=extra)
