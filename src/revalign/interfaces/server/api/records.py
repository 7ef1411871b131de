"""Drill-down: the records behind a number; a rep sees only their own.

``/api/v1/records?kpi=…`` lists what a KPI's number counts (one table per part: a ratio's numerator and
denominator rows); ``/api/v1/records/{table}`` lists one table. Both page with ``limit``/``offset`` and report
the total row count in ``meta``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import FiltersDep, Format, KnownParameters, TableName
from revalign.interfaces.server.reports.records import RecordQuery, kpi_records, records
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
Limit = Annotated[int, Query(ge=1, le=10_000, description="Rows per page (capped at the server's max_records).")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip: the page starts after them.")]
Part = Annotated[
    Literal["rows", "numerator", "denominator"] | None,
    Query(description="Only this part of the KPI's drill (to page through it alone)."),
]


def record_query(
    table: RecordTable,
    filters: FiltersDep,
    kpi: Code = None,
    owner_id: Code = None,
    channel: Code = None,
    stage: Code = None,
    limit: Limit = 100,
    offset: Offset = 0,
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


def kpi_record_query(
    filters: FiltersDep,
    kpi: Annotated[str, Query(pattern=r"^[A-Za-z0-9_]{1,128}$", description="The KPI whose number to open.")],
    owner_id: Code = None,
    channel: Code = None,
    stage: Code = None,
    part: Part = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> RecordQuery:
    """The validated drill into a KPI's number, shared by the API route and the page."""
    return RecordQuery(
        table="",
        filters=filters,
        kpi=kpi,
        owner_id=owner_id,
        channel=channel,
        stage=stage,
        limit=limit,
        offset=offset,
        part=part,
    )


KpiRecordQueryDep = Annotated[RecordQuery, Depends(kpi_record_query)]


def records_report(
    request: Request, project: Project, cache: ReportCache, user: UserRecord, query: RecordQuery
) -> Report:
    """The listing (cached per request like every report), capped at the server's ``max_records``."""
    max_rows = request.app.state.settings.max_records
    return cache.run(lambda: records(project, user, query, max_rows=max_rows))


def kpi_records_report(
    request: Request, project: Project, cache: ReportCache, user: UserRecord, query: RecordQuery
) -> Report:
    """The drill behind a KPI (not cached: it depends on the user's scope), capped at ``max_records``."""
    max_rows = request.app.state.settings.max_records
    return cache.run(lambda: kpi_records(project, user, query, max_rows=max_rows))


@router.get("", response_model=ReportPublic, dependencies=[KnownParameters])
def list_kpi_records(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    query: KpiRecordQueryDep,
    fmt: Format = "json",
    table: TableName = None,
):
    """The rows a KPI's number counts in the period: ``rows``, or ``numerator`` and ``denominator`` tables (or,
    for a KPI computed from other KPIs, an ``inputs`` table linking to theirs). ``format=csv&table=…`` exports
    one of them."""
    report = kpi_records_report(request, project, cache, user, query)
    filters = {**query.filters.as_dict(), "kpi": query.kpi, "part": query.part}
    return report_response(report, filters, fmt, table, project)


@router.get("/{table}", response_model=ReportPublic, dependencies=[KnownParameters])
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
