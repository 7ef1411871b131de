"""One factory for the report endpoints that take only the common filters (overview, funnel, channels).

Each such endpoint is the same three steps: build the report through ``guarded`` (so a missing analytic is
an "available: false" report, not an error), cache it per filter set, and answer as JSON or one table as CSV.
Writing that once keeps the endpoints from drifting apart; the page of the same name calls the returned report
function, so page and API show the same cached numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends

from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, Format, KnownParameters, TableName
from revalign.interfaces.server.privacy import private_rows, scope_of
from revalign.interfaces.server.reports.report import Report, guarded
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

ReportFunction = Callable[[Project, ReportCache, Filters], Report]


def report_endpoint(
    name: str, title: str, build: Callable[[Project, Filters], Report], filters: Callable[..., Filters]
) -> tuple[APIRouter, ReportFunction]:
    """``GET /api/v1/<name>`` for ``build(project, filters)``, and the cached report function the page uses.

    ``filters`` is the page's dependency from :func:`~revalign.interfaces.server.filters.filters_for`: the
    filters it honours; any other query parameter is a 422 naming it.
    """

    def report(project: Project, cache: ReportCache, chosen: Filters) -> Report:
        return cache.get_or_compute((name, chosen.key()), lambda: guarded(name, title, build, project, chosen))

    def get(
        project: ProjectDep,
        cache: CacheDep,
        user: CurrentUser,
        chosen: Filters = Depends(filters),
        fmt: Format = "json",
        table: TableName = None,
    ) -> Any:
        shown = private_rows(project.catalog, report(project, cache, chosen), scope_of(project, cache, user))
        return report_response(shown, chosen.as_dict(), fmt, table, project)

    router = APIRouter(prefix=f"/{name}", tags=[name], responses=ERROR_RESPONSES, dependencies=[KnownParameters])
    router.add_api_route("", get, methods=["GET"], response_model=ReportPublic, name=f"get_{name}")
    return router, report
