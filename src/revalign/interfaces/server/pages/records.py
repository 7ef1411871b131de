"""Drill-down pages: the records behind a number, same listing as ``/api/v1/records/{table}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server import reports
from revalign.interfaces.server.api.records import Code, RecordTable, build_query
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import FiltersDep
from revalign.interfaces.server.pages.rendering import render

router = APIRouter()


@router.get("/records/{table}", response_class=HTMLResponse)
def records_page(
    request: Request,
    table: RecordTable,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: FiltersDep,
    kpi: Code = None,
    owner_id: Code = None,
    channel: Code = None,
    stage: Code = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    query = build_query(table, filters, kpi, owner_id, channel, stage, limit, offset)
    settings = request.app.state.settings
    report = cache.run(lambda: reports.records(project, user, query, max_rows=settings.max_records))
    return render(request, "report.html", report, filters=filters, api_path=f"/api/v1/records/{table}")
