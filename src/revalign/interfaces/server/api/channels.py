"""``GET /api/v1/channels``: the Channels report (JSON, or one table as CSV)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from revalign.interfaces.server import reports
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, FiltersDep, Format, TableName
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.tabular import report_response

router = APIRouter(prefix="/channels", tags=["channels"], responses=ERROR_RESPONSES)


def channels_report(project: Any, cache: Any, filters: Filters) -> reports.Report:
    """The report the page and the API both show (computed once per filter set, then cached)."""
    return cache.get_or_compute(
        ("channels", filters.key()), lambda: reports.guarded("channels", "Channels", reports.channels, project, filters)
    )


@router.get("", response_model=ReportPublic)
def get_channels(
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: FiltersDep,
    fmt: Format = "json",
    table: TableName = None,
):
    return report_response(channels_report(project, cache, filters), filters.as_dict(), fmt, table)
