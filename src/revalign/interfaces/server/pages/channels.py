"""The Channels page: the same report as ``/api/v1/channels``, laid out with charts."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.channels import PageFilters, channels_report
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.reports.channels import ACCEPTS, ChannelKey

router = APIRouter()


@router.get("/channels", response_class=HTMLResponse, dependencies=[KnownParameters])
def channels_page(request: Request, project: ProjectDep, cache: CacheDep, user: CurrentUser, filters: PageFilters):
    report = channels_report(project, cache, filters)
    extra = {"controls": ACCEPTS, "by_options": get_args(ChannelKey)}
    return render(request, "report.html", report, filters=filters, api_path="/api/v1/channels", extra=extra)
