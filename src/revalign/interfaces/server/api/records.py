"""Drill-down: the records behind a number (``/api/v1/records/{table}``); a rep sees only their own."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from revalign.interfaces.server import reports
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import FiltersDep, Format
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.tabular import report_response

router = APIRouter(prefix="/records", tags=["records"], responses=ERROR_RESPONSES)
RecordTable = Literal[
    "leads", "opportunities", "accounts", "touchpoints", "subscriptions", "campaigns", "spend", "quotas"
]
Code = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]


def build_query(
    table: str,
    filters: reports.Filters,
    kpi: str | None,
    owner_id: str | None,
    channel: str | None,
    stage: str | None,
    limit: int,
    offset: int,
) -> reports.RecordQuery:
    return reports.RecordQuery(
        table=table,
        filters=filters,
        kpi=kpi,
        owner_id=owner_id,
        channel=channel,
        stage=stage,
        limit=limit,
        offset=offset,
    )


@router.get("/{table}", response_model=ReportPublic)
def list_records(
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
    fmt: Format = "json",
):
    """Rows of ``table`` in the period/segment/channel/stage asked for; reps are limited to their own."""
    query = build_query(table, filters, kpi, owner_id, channel, stage, limit, offset)
    settings = request.app.state.settings
    report = cache.run(lambda: reports.records(project, user, query, max_rows=settings.max_records))
    return report_response(report, {**filters.as_dict(), "table": table, "kpi": kpi}, fmt, None)
