"""The Driver tree page: the same report as ``/api/v1/tree``, drawn as a folding tree."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.tree import PageFilters, cached_tree_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.privacy import private_rows, scope_of
from revalign.interfaces.server.reports.tree import ACCEPTS

router = APIRouter()


@router.get("/tree", response_class=HTMLResponse, dependencies=[KnownParameters])
def tree_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: PageFilters):
    report = private_rows(project.catalog, cached_tree_report(project, cache, filters), scope_of(project, cache, user))
    return render(request, "tree.html", report, filters=filters, api_path="/api/v1/tree", extra={"controls": ACCEPTS})
