"""The scorecards page: one department's scorecard or the joint one, same report as ``/api/v1/scorecards``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.scorecards import Department, PageFilters, Template, scorecard_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep, StoreDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.privacy import private_rows, scope_of
from revalign.interfaces.server.reports.disputes import banner, viewing
from revalign.interfaces.server.reports.report import SCORECARD_DEPARTMENTS
from revalign.interfaces.server.reports.scorecards import ACCEPTS

router = APIRouter()


@router.get("/scorecards", response_class=HTMLResponse, dependencies=[KnownParameters])
def scorecards_page(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    store: StoreDep,
    user: CurrentUser,
    filters: PageFilters,
    department: Department = "joint",
    template: Template = None,
):
    template = template or None  # the form's "none" is an empty value
    card = scorecard_report(project, cache, department, filters, template)
    report = private_rows(project.catalog, card, scope_of(project, cache, user))  # pay KPIs' rows per viewer
    extra: dict[str, Any] = {
        "departments": SCORECARD_DEPARTMENTS,
        "department": department,
        "templates": sorted(project.catalog.scorecards),
        "template": template,
        "controls": ACCEPTS,
        "dispute_rows": True,
    }
    extra["disputes_banner"] = banner(
        store, viewing(project, cache, user), None if department == "joint" else department
    )
    return render(request, "report.html", report, filters=filters, api_path="/api/v1/scorecards", extra=extra)
