"""``GET /api/v1/home/{role}``: a role's home (CMO, CRO, rep, customer success) as JSON, or one table as CSV.

Each home is computed once per period (a rep's once per person) and cached; what a viewer sees of it is then cut
by the pay-privacy rule, as every scorecard is: pay KPIs' rows (quota, attainment) only for the people in the
viewer's scope, and the per-rep table's pay columns blanked for anyone else. Who may open which home is
:data:`~revalign.interfaces.server.reports.homes.HOME_ROLES`; a rep opens only their own.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query

from revalign.analytics.privacy import HIDDEN_NOTICE, PayScope
from revalign.definitions.kpis.sensitivity import pay_kpis
from revalign.errors import PermissionDenied
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.deps import CacheDep, CurrentUser, ProjectDep
from revalign.interfaces.server.filters import Filters, Format, KnownParameters, TableName, filters_for
from revalign.interfaces.server.privacy import narrowed, per_scope, private_rows, scope_of, viewer_of
from revalign.interfaces.server.reports.homes import (
    ACCEPTS,
    HOME_ROLES,
    HOME_TITLES,
    HomeName,
    cmo_home,
    cro_home,
    cs_home,
    rep_home,
)
from revalign.interfaces.server.reports.report import Report, guarded
from revalign.interfaces.server.schemas import ERROR_RESPONSES, ReportPublic
from revalign.interfaces.server.state import UserRecord
from revalign.interfaces.server.tabular import report_response
from revalign.project import Project

router = APIRouter(prefix="/home", tags=["homes"], responses=ERROR_RESPONSES, dependencies=[KnownParameters])
PageFilters = Annotated[Filters, Depends(filters_for(*ACCEPTS))]
"""The filters a home honours (the quarter)."""
Home = Annotated[HomeName, Path(description="Whose home: cmo, cro, rep (your own) or cs (customer success).")]
Owner = Annotated[
    str | None,
    Query(
        max_length=128,
        description="The rep home only: whose (a users.user_id). Default and for reps: your own; others may open "
        "the home of a person whose pay data they may see (their reports; finance, RevOps and admin: anyone).",
    ),
]
BUILDERS = {"cmo": cmo_home, "cro": cro_home, "cs": cs_home}


def check_home(user: UserRecord, home: str) -> None:
    """PermissionDenied unless ``user``'s role may open ``home``."""
    if user.role not in HOME_ROLES[home]:
        allowed = ", ".join(sorted(HOME_ROLES[home]))
        raise PermissionDenied(f"Your role ({user.role}) has no {HOME_TITLES[home]}; it is for: {allowed}.")


def rep_owner(project: Project, cache: ReportCache, user: UserRecord, owner: str | None) -> str | None:
    """Whose rep home ``user`` opens: their own, or ``owner`` when the pay-privacy rule lets them see that person
    (a rep never sees another rep's)."""
    if owner is None or owner == user.owner_id:
        return user.owner_id
    if user.role == "rep" or not scope_of(project, cache, user).allows(owner):
        raise PermissionDenied(
            f"You may not open the home of {owner}: a rep's home (attainment, payout) is shown to that person, "
            "their managers, and the finance, RevOps and admin roles."
        )
    return owner


def shared_home_report(project: Project, cache: ReportCache, home: str, filters: Filters) -> Report:
    """A home that is the same for everyone allowed to open it (not a rep's), computed once per filter set."""
    build = BUILDERS[home]
    key = ("home", home, None, filters.key())
    return cache.get_or_compute(key, lambda: guarded(f"home-{home}", HOME_TITLES[home], build, project, filters))


def home_report(
    project: Project, cache: ReportCache, user: UserRecord, home: str, filters: Filters, owner: str | None = None
) -> Report:
    """The home as ``user`` may see it (the cached report, cut by pay privacy); the page shows the same."""
    check_home(user, home)
    if home == "rep":
        who = rep_owner(project, cache, user, owner)
        viewer = viewer_of(user)
        key = ("home", home, who, filters.key())
        report = cache.get_or_compute(
            key, lambda: guarded("home-rep", "My home", rep_home, project, filters, who, viewer)
        )
    else:
        report = shared_home_report(project, cache, home, filters)
    scope = scope_of(project, cache, user)
    return private_reps(project, private_rows(project.catalog, report, scope), scope)


def private_reps(project: Project, report: Report, scope: PayScope) -> Report:
    """The CRO's per-rep table with the pay KPIs' columns blanked for the people ``scope`` does not allow (the
    names, pipeline, SLA compliance and audit findings stay: they are not pay data)."""
    if scope.everyone or "reps" not in report.tables:
        return report
    return per_scope(report, "reps", scope, lambda: _private_reps(project, report, scope))


def _private_reps(project: Project, report: Report, scope: PayScope) -> Report:
    title, frame = report.tables["reps"]
    paid = pay_kpis(project.catalog.kpis, project.catalog.semantic_models)
    pay = [c for c in frame.columns if c in paid]
    hidden_rows = ~frame["owner"].isin(sorted(scope.owners))
    hidden = int((hidden_rows & frame[pay].notna().any(axis=1)).sum()) if pay else 0
    if not hidden:
        return report
    blanked = frame.copy()
    blanked[pay] = blanked[pay].astype(object).where(~hidden_rows, None)
    blanked[pay] = blanked[pay].apply(pd.to_numeric)
    said = HIDDEN_NOTICE in report.notices  # the KPI rows' cut may have said it already
    return narrowed(report, {**report.tables, "reps": (title, blanked)}, 0 if said else hidden, notice=HIDDEN_NOTICE)


@router.get("/{home}", response_model=ReportPublic)
def get_home(
    project: ProjectDep,
    cache: CacheDep,
    user: CurrentUser,
    filters: PageFilters,
    home: Home,
    owner: Owner = None,
    fmt: Format = "json",
    table: TableName = None,
):
    report = home_report(project, cache, user, home, filters, owner)
    params = {**filters.as_dict(), "home": home, **({"owner": owner} if owner else {})}
    return report_response(report, params, fmt, table, project)
