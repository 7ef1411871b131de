"""``GET /api/v1/attribution``: credit by channel under each attribution model, side by side."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Depends, Query

from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, Format, KnownParameters, TableName, filters_for
from revalign.interfaces.server.reports.attribution import ACCEPTS, PAGE_MODELS, attribution
from revalign.interfaces.server.reports.channels import ChannelKey
from revalign.interfaces.server.reports.report import Report, guarded
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

router = APIRouter(
    prefix="/attribution", tags=["attribution"], responses=ERROR_RESPONSES, dependencies=[KnownParameters]
)
PageFilters = Annotated[Filters, Depends(filters_for(*ACCEPTS, by=ChannelKey))]
"""The filters the Attribution page and API honour besides ``models``."""
ModelName = Literal[
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "full_path",
    "j_shaped",
    "inverse_j",
    "markov",
    "markov_2",
    "shapley",
]
Models = Annotated[
    list[ModelName] | None,
    Query(description="Models to compare (repeat the parameter); default: the common rule models and Markov."),
]


MODEL_NAMES: tuple[str, ...] = get_args(ModelName)


def chosen_models(models: list[ModelName] | None) -> tuple[str, ...]:
    """The models asked for, in order and once each; the page's default set without ``models``."""
    return tuple(dict.fromkeys(models)) if models else PAGE_MODELS


def attribution_report(
    project: Project, cache: ReportCache, filters: Filters, models: tuple[str, ...] = PAGE_MODELS
) -> Report:
    """The report the page and the API both show (computed once per filter set and models, then cached)."""
    return cache.get_or_compute(
        ("attribution", filters.key(), models),
        lambda: guarded("attribution", "Attribution", attribution, project, filters, models),
    )


@router.get("", response_model=ReportPublic)
def get_attribution(
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    models: Models = None,
    fmt: Format = "json",
    table: TableName = None,
):
    chosen = chosen_models(models)
    report = attribution_report(project, cache, filters, chosen)
    return report_response(report, {**filters.as_dict(), "models": list(chosen)}, fmt, table, project)
