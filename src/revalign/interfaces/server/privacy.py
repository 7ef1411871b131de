"""The pay-privacy rule (:mod:`revalign.analytics.privacy`) applied to the server's reports, per viewer.

Reports are computed once and cached for everyone; what a person may see of them differs. So the cached report
is never changed: each request gets a copy with the rows of pay KPIs it may not see removed, and a notice that
says rows were hidden for privacy. A login (session or API token alike) is the :class:`Viewer` of its
``owner_id`` (the canonical ``users.user_id`` it is linked to) and its role.

The copy is made once per cached report and pay scope (:func:`per_scope`, kept on the cached report, so it goes
when the report does): everyone with the same scope gets the same copy, whose public form and rendered page are
then memoised like the shared report's, instead of cutting and formatting the tables again on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd

from revalign.analytics.privacy import (
    HIDDEN_NOTICE,
    PayScope,
    Viewer,
    hide_pay_rows,
    is_pay_kpi,
    pay_scope,
    visible_targets,
    visible_values,
)
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.sensitivity import pay_kpis
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.state import UserRecord
from revalign.project import Project


def viewer_of(user: UserRecord) -> Viewer:
    """The library's viewer for a server login: the canonical person it is linked to and its role."""
    return Viewer(user_id=user.owner_id, roles=frozenset({user.role}))


def scope_of(project: Project, cache: ReportCache, user: UserRecord) -> PayScope:
    """Whose pay data ``user`` may see. The team tree is read from the engine, so under the cache's engine lock,
    and kept per person until the data changes (the cache is cleared when the project's version moves)."""
    viewer = viewer_of(user)
    if viewer.sees_all_pay or viewer.user_id is None:
        return pay_scope(project.tables, viewer)  # no query: everyone, or nobody
    return cache.get_or_compute(("pay_scope", viewer.user_id), lambda: pay_scope(project.tables, viewer))


TARGETS_NOTICE = (
    "Targets of pay KPIs were hidden for privacy: a person's target is shown to them, their managers, and the "
    "finance, RevOps and admin roles."
)


def narrowed(
    report: Report,
    tables: dict[str, tuple[str, pd.DataFrame]],
    hidden: int,
    *,
    notice: str = HIDDEN_NOTICE,
    meta: dict[str, Any] | None = None,
) -> Report:
    """A copy of ``report`` with ``tables`` and ``meta`` replaced, saying so when something was hidden; the
    cached report (and the JSON memoised on it) stays as it was."""
    notices = [*report.notices, notice] if hidden else list(report.notices)
    return Report(
        page=report.page,
        title=report.title,
        tables=tables,
        notices=notices,
        meta={**report.meta, **(meta or {})},
        available=report.available,
    )


def per_scope(report: Report, cut: Hashable, scope: PayScope, make: Callable[[], Report]) -> Report:
    """``make()`` (``report`` as ``scope`` may see it, by the cut named ``cut``), made once per report and scope.

    Kept on the cached ``report`` (as its public form is, see :func:`~.tabular.report_public`): the cut depends
    only on the report, the catalog (fixed for a project) and the scope, and it goes when the cache drops the
    report. Two threads cutting at once both make it; either copy is right.
    """
    memo: dict[Hashable, Report] = report.__dict__.setdefault("_per_scope", {})
    key = (cut, scope)
    if key not in memo:
        memo[key] = make()
    return memo[key]


def kpi_entry(catalog: Catalog, entry: dict[str, Any], scope: PayScope) -> dict[str, Any]:
    """A KPI's glossary entry with the targets of a pay KPI ``scope`` does not allow left out."""
    if scope.everyone or not is_pay_kpi(catalog, entry["name"]):
        return entry
    targets = visible_targets(catalog.get(entry["name"]).targets, scope)
    return entry | {"targets": [t.model_dump(mode="json") for t in targets]}


def private_values(catalog: Catalog, report: Report, name: str, scope: PayScope) -> Report:
    """One KPI's report as a viewer with ``scope`` may see it: a pay KPI's rows of the people in scope, its
    targets alike. :func:`~revalign.analytics.privacy.check_kpi_access` has already refused what the viewer
    may not ask for."""
    if scope.everyone or not is_pay_kpi(catalog, name):
        return report
    return per_scope(report, ("values", name), scope, lambda: _private_values(catalog, report, name, scope))


def _private_values(catalog: Catalog, report: Report, name: str, scope: PayScope) -> Report:
    tables, hidden = {}, 0
    for key, (title, frame) in report.tables.items():
        visible = visible_values(frame, scope)
        tables[key], hidden = (title, visible.frame), hidden + visible.hidden
    entry = kpi_entry(catalog, report.meta["kpi"], scope) if "kpi" in report.meta else None
    return narrowed(report, tables, hidden, meta={"kpi": entry} if entry is not None else None)


def private_rows(catalog: Catalog, report: Report, scope: PayScope) -> Report:
    """A report listing several KPIs (a scorecard) without the pay KPIs' rows ``scope`` does not allow."""
    if scope.everyone:
        return report
    return per_scope(report, "rows", scope, lambda: _private_rows(catalog, report, scope))


def _private_rows(catalog: Catalog, report: Report, scope: PayScope) -> Report:
    pay = pay_kpis(catalog.kpis, catalog.semantic_models)
    tables, hidden = {}, 0
    for key, (title, frame) in report.tables.items():
        visible = hide_pay_rows(frame, pay, scope)
        tables[key], hidden = (title, visible.frame), hidden + visible.hidden
    return narrowed(report, tables, hidden) if hidden else report


def private_glossary(cat: Catalog, report: Report, scope: PayScope) -> Report:
    """The glossary with the targets of pay KPIs ``scope`` does not allow left out (definitions stay public)."""
    if scope.everyone or "kpis" not in report.tables:
        return report
    if report.tables["kpis"][1].empty:
        return report
    return per_scope(report, "glossary", scope, lambda: _private_glossary(cat, report, scope))


def _private_glossary(cat: Catalog, report: Report, scope: PayScope) -> Report:
    title, frame = report.tables["kpis"]
    pay = pay_kpis(cat.kpis, cat.semantic_models)  # once, not per row: it walks the whole catalog
    texts = [
        "; ".join(f"{t.period}: {t.value}" for t in visible_targets(cat.get(n).targets, scope)) if n in pay else text
        for n, text in zip(frame["name"], frame["targets"], strict=True)
    ]
    hidden = sum(a != b for a, b in zip(texts, frame["targets"], strict=True))
    tables = {**report.tables, "kpis": (title, frame.assign(targets=texts))}
    return narrowed(report, tables, hidden, notice=TARGETS_NOTICE)
