"""Drill-down pages: the records behind a number, the same listings as ``/api/v1/records`` and
``/api/v1/records/{table}``, with paging links and the total row count."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.analytics.records import RECORD_TABLES
from revalign.interfaces.server.api.records import (
    KpiRecordQueryDep,
    RecordQueryDep,
    kpi_records_report,
    records_report,
)
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import FiltersDep, KnownParameters
from revalign.interfaces.server.pages.rendering import render

router = APIRouter()
DISPUTES = {
    "dispute_rows": True,
    "dispute_keys": [(name, spec.key[0]) for name, spec in RECORD_TABLES.items() if spec.key],
}
"""Each row gets a "Dispute" link (templates/_dispute.html): its record found by the first table key it holds."""


@router.get("/records", response_class=HTMLResponse, dependencies=[KnownParameters])
def kpi_records_page(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: FiltersDep,
    query: KpiRecordQueryDep,
):
    report = kpi_records_report(request, project, cache, user, query)
    return render(request, "records.html", report, filters=filters, api_path="/api/v1/records", extra=DISPUTES)


@router.get("/records/{table}", response_class=HTMLResponse, dependencies=[KnownParameters])
def records_page(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: FiltersDep,
    query: RecordQueryDep,
):
    report = records_report(request, project, cache, user, query)
    return render(
        request, "records.html", report, filters=filters, api_path=f"/api/v1/records/{query.table}", extra=DISPUTES
    )
