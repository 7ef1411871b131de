"""``GET /api/v1/incentives``: the comp plan, its perverse-incentive check, the alignment of pay, a comparison with
another plan (``compare=``) and the payout statements the caller may see (JSON, or one table as CSV).

Pay privacy is the library's rule, applied per caller to the cached report
(:func:`~revalign.interfaces.server.reports.incentives.private_incentives`): a rep sees their own statements, a
manager their reports', finance, RevOps and admin everyone's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, Format, KnownParameters, TableName, filters_for
from revalign.interfaces.server.privacy import scope_of
from revalign.interfaces.server.reports.incentives import ACCEPTS, IncentivesFilters, incentives, private_incentives
from revalign.interfaces.server.reports.report import Report, guarded
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.state import UserRecord
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

router = APIRouter(prefix="/incentives", tags=["incentives"], responses=ERROR_RESPONSES, dependencies=[KnownParameters])
PlanName = Annotated[
    str | None,
    Query(pattern=r"^[A-Za-z][\w-]{0,63}$", description="The comp plan shown (default: the only plan)."),
]
CompareName = Annotated[
    str | None,
    Query(pattern=r"^[A-Za-z][\w-]{0,63}$", description="Another comp plan to compare it with, side by side."),
]
_dates = filters_for(*ACCEPTS)


def page_filters(
    base: Annotated[Filters, Depends(_dates)], plan: PlanName = None, compare: CompareName = None
) -> IncentivesFilters:
    """FastAPI dependency: the page's dates, the plan shown and the plan compared with (all part of the cache key)."""
    return IncentivesFilters(start=base.start, end=base.end, period=base.period, plan=plan, compare=compare)


PageFilters = Annotated[IncentivesFilters, Depends(page_filters)]


def shared_incentives_report(project: Project, cache: ReportCache, filters: IncentivesFilters) -> Report:
    """The whole report, computed once per filter set for everyone (what warming fills; never shown uncut)."""
    return cache.get_or_compute(
        ("incentives", filters.key()), lambda: guarded("incentives", "Incentives", incentives, project, filters)
    )


def incentives_report(project: Project, cache: ReportCache, user: UserRecord, filters: IncentivesFilters) -> Report:
    """The report as ``user`` may see it: computed once per filter set for everyone, cut per viewer."""
    return private_incentives(shared_incentives_report(project, cache, filters), scope_of(project, cache, user))


@router.get("", response_model=ReportPublic)
def get_incentives(
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    fmt: Format = "json",
    table: TableName = None,
):
    report = incentives_report(project, cache, user, filters)
    return report_response(report, filters.as_dict(), fmt, table, project)
