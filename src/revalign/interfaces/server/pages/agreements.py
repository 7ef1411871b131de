"""The agreements page: the report of ``/api/v1/agreements`` with propose and sign buttons.

The buttons post to ``/api/v1/agreements/propose`` and ``/api/v1/agreements/approvals/{id}/sign`` from
``static/agreements.js`` (no inline script: the CSP forbids it) with the session's CSRF token, then reload the
page, which shows who signed and when and whether the version counts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.agreements import PROPOSING_ROLES, PageFilters, agreements_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.state.approvals import department_of

router = APIRouter()


@router.get("/agreements", response_class=HTMLResponse, dependencies=[KnownParameters])
def agreements_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: PageFilters):
    report = agreements_report(project, cache, filters)
    extra = {
        "my_department": department_of(user),
        "may_propose": user.role in PROPOSING_ROLES,
        "controls": (),
    }
    return render(request, "agreements.html", report, filters=filters, api_path="/api/v1/agreements", extra=extra)
