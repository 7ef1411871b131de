"""The Attribution page: the same report as ``/api/v1/attribution``, laid out with charts.

The models to compare are a multiple select on the page (``models=`` repeated, as in the API); the page shows
the models it was asked for, never a silent default.
"""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revalign.interfaces.server.api.attribution import (
    MODEL_NAMES,
    Models,
    PageFilters,
    attribution_report,
    chosen_models,
)
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.pages.rendering import render
from revalign.interfaces.server.reports.attribution import ACCEPTS
from revalign.interfaces.server.reports.channels import ChannelKey

router = APIRouter()


@router.get("/attribution", response_class=HTMLResponse, dependencies=[KnownParameters])
def attribution_page(
    request: Request,
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    models: Models = None,
):
    chosen = chosen_models(models)
    report = attribution_report(project, cache, filters, chosen)
    extra = {
        "controls": (*ACCEPTS, "models"),
        "by_options": get_args(ChannelKey),
        "model_names": MODEL_NAMES,
        "models": chosen,
    }
    return render(request, "report.html", report, filters=filters, api_path="/api/v1/attribution", extra=extra)
