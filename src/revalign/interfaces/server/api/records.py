"""Drill-down: the records behind a number (``/api/v1/records/{table}``); a rep sees only their own."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import FiltersDep, Format
from revalign.interfaces.server.reports.records import RecordQuery, records
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.state import UserRecord
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

router = APIRouter(prefix="/records", tags=["records"], responses=ERROR_RESPONSES)
RecordTable = Literal[
    "leads", "opportunities", "accounts", "touchpoints", "subscriptions", "campaigns", "spend", "quotas"
]
Code = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]


def record_query(
    table: RecordTable,
    filters: FiltersDep,
    kpi: Code = None,
    owner_id: Code = None,
    channel: Code = None,
    stage: Code = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> RecordQuery:
    """The validated drill-down request, shared by the API route and the page of the same listing."""
    return RecordQuery(
        table=table,
        filters=filters,
        kpi=kpi,
        owner_id=owner_id,
        channel=channel,
        stage=stage,
        limit=limit,
        offset=offset,
    )


RecordQueryDep = Annotated[RecordQuery, Depends(record_query)]


def records_report(
    request: Request, project: Project, cache: ReportCache, user: UserRecord, query: RecordQuery
) -> Report:
    """The listing (cached per request like every report), capped at the server's ``max_records``."""
    max_rows = request.app.state.settings.max_records
    return cache.run(lambda: records(project, user, query, max_rows=max_rows))


@router.get("/{table}", response_model=ReportPublic)
def list_records(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    query: RecordQueryDep,
    fmt: Format = "json",
):
    """Rows of ``table`` in the period/segment/channel/stage asked for; reps are limited to their own."""
    report = records_report(request, project, cache, user, query)
    return report_response(
        report, {**query.filters.as_dict(), "table": query.table, "kpi": query.kpi}, fmt, None, project
    )
