"""The audit page: the same report as ``/api/v1/audit``, with confirm/dismiss controls for reviewers and an
evidence timeline per finding (decisions are posted by ``static/audit.js`` to the JSON API)."""

from __future__ import annotations

from typing import Annotated, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.audit import audit_filters, audit_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.reports.audit import AuditFilters, KindName
from revalign.interfaces.server.state.audit import may_decide

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse, dependencies=[KnownParameters])
def audit_page(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: Annotated[AuditFilters, Depends(audit_filters)],
):
    report = audit_report(project, cache, filters)
    extra = {"kinds": get_args(KindName), "may_decide": may_decide(user.role)}
    return render(request, "audit.html", report, filters=filters, api_path="/api/v1/audit", extra=extra)
