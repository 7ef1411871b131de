"""Pay privacy: who may see whose compensation data (quotas, attainment, payouts, comp plans).

The rule, in the library so every interface enforces the same one (API, pages, CSV, API tokens, scripts):

- pay-data roles (:data:`PAY_ROLES`: finance, RevOps, admin) see everyone's pay data;
- anyone else sees the pay data of the person they are (``Viewer.user_id``, a ``users.user_id``) and of everyone
  below them in the team tree (``users.manager_id``, followed down to any depth) — a rep their own, a manager
  their reports', a CRO everyone who reports up to them;
- a company-, team- or segment-level value of a pay KPI mixes people the viewer may not see, so it is for
  pay-data roles only: the others slice it by owner and see their rows.

Which KPIs and tables are pay data is the catalog's business
(:mod:`revalign.definitions.kpis.sensitivity`); this module decides and filters. A denial is
:class:`~revalign.errors.PermissionDenied` with a message that says why and what is allowed; a filter returns
the rows kept and how many were hidden, so the caller can say that rows were hidden for privacy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import ibis.expr.types as ir
import pandas as pd

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.sensitivity import PAY_TABLES, pay_kpis
from revalign.definitions.kpis.spec import Target
from revalign.errors import PermissionDenied
from revalign.model.access import Tables

PAY_ROLES = frozenset({"admin", "finance", "revops"})
"""Roles that see everyone's pay data. Everyone else sees their own and their reports'."""

OWNER = "owner"
"""The dimension a pay KPI is sliced by to show people's rows (the catalog's ``owner`` dimension)."""

HIDDEN_NOTICE = (
    "Rows were hidden for privacy: pay data (quotas, attainment) is shown only for you and the people who "
    "report to you; finance, RevOps and admin roles see everyone's."
)


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the person they are in the canonical ``users`` table (if any) and their roles."""

    user_id: str | None = None
    roles: frozenset[str] = frozenset()

    @property
    def sees_all_pay(self) -> bool:
        """Whether a pay-data role lets this viewer see everyone's pay data."""
        return bool(self.roles & PAY_ROLES)


@dataclass(frozen=True)
class PayScope:
    """Whose pay data a viewer may see: everyone, or the people in ``owners`` (possibly nobody)."""

    everyone: bool
    owners: frozenset[str] = frozenset()

    def allows(self, owner: object) -> bool:
        return self.everyone or (isinstance(owner, str) and owner in self.owners)


@dataclass(frozen=True)
class Visible:
    """Rows a viewer may see, and how many rows of the input were hidden for privacy."""

    frame: pd.DataFrame
    hidden: int = 0


# -- the team tree ----------------------------------------------------------------------------------------------


def reports_of(managers: Mapping[str, str | None], user_id: str) -> frozenset[str]:
    """``user_id`` and everyone whose manager chain (``managers``: user → manager) reaches ``user_id``.

    Walks down the tree breadth first, each person once, so a cycle in bad data ends the walk instead of
    looping.
    """
    below: dict[str, list[str]] = {}
    for user, manager in managers.items():
        if manager is not None:
            below.setdefault(manager, []).append(user)
    seen, todo = {user_id}, [user_id]
    while todo:
        for report in below.get(todo.pop(), []):
            if report not in seen:
                seen.add(report)
                todo.append(report)
    return frozenset(seen)


def manager_links(tables: Tables) -> dict[str, str | None]:
    """user → manager from the ``users`` table (empty when none was loaded). A dimension table of people, small
    enough to walk in Python; the fact tables are filtered in the engine."""
    if not tables.has("users"):
        return {}
    users = tables.table("users")
    frame = tables.to_pandas(users.select("user_id", "manager_id").filter(users.user_id.notnull()))
    pairs = zip(frame.user_id, frame.manager_id, strict=True)
    return {str(u): (str(m) if isinstance(m, str) else None) for u, m in pairs}


def pay_scope(tables: Tables, viewer: Viewer) -> PayScope:
    """Whose pay data ``viewer`` may see (see the module docstring for the rule)."""
    if viewer.sees_all_pay:
        return PayScope(everyone=True)
    if viewer.user_id is None:
        return PayScope(everyone=False)
    return PayScope(everyone=False, owners=reports_of(manager_links(tables), viewer.user_id))


# -- KPIs -------------------------------------------------------------------------------------------------------


def is_pay_kpi(catalog: Catalog, name: str) -> bool:
    """Whether KPI ``name`` is pay data (marked, or computed from pay data)."""
    return name in pay_kpis(catalog.kpis, catalog.semantic_models)


def unlinked(viewer: Viewer) -> PermissionDenied:
    return PermissionDenied(
        "Pay data (quotas, attainment) is shown to the person it is about, their managers, and the finance, "
        f"RevOps and admin roles. Your login ({', '.join(sorted(viewer.roles)) or 'no role'}) is not linked to a "
        "person in the users table, so no one's pay data is yours to see; an admin can link it "
        "(`revalign users add NAME --owner-id <user_id> --replace`)."
    )


def check_kpi_access(catalog: Catalog, viewer: Viewer, kpi: str, by: Sequence[str]) -> None:
    """PermissionDenied unless ``viewer`` may ask for ``kpi`` sliced by ``by`` (before anything is computed).

    A pay KPI's value over many people (the company, a segment, a team) is for pay-data roles; anyone linked to
    a person may slice it by owner and gets their rows (:func:`visible_values`).
    """
    if viewer.sees_all_pay or not is_pay_kpi(catalog, kpi):
        return
    if viewer.user_id is None:
        raise unlinked(viewer)
    if OWNER not in by:
        raise PermissionDenied(
            f"{kpi} is pay data: its value over many people is for the finance, RevOps and admin roles. "
            f"Slice it by owner (by=owner) to see your own rows and your reports'."
        )


def visible_values(frame: pd.DataFrame, scope: PayScope, *, owner_column: str = OWNER) -> Visible:
    """The rows of a pay KPI's values (sliced by ``owner_column``) whose owner ``scope`` allows."""
    if scope.everyone:
        return Visible(frame)
    if owner_column not in frame.columns:
        return Visible(frame.iloc[0:0], len(frame))
    keep = frame[owner_column].isin(sorted(scope.owners))
    return Visible(frame[keep].reset_index(drop=True), int((~keep).sum()))


def hide_pay_rows(
    frame: pd.DataFrame,
    pay: Iterable[str],
    scope: PayScope,
    *,
    kpi_column: str = "kpi",
    owner_column: str = OWNER,
) -> Visible:
    """A table of several KPIs (a scorecard) without the rows of pay KPIs ``scope`` does not allow.

    A pay KPI's row stays when the table is sliced by owner and the row's owner is allowed; a row over many
    people (no owner column, or no owner) stays only for pay-data roles.
    """
    if scope.everyone or kpi_column not in frame.columns:
        return Visible(frame)
    is_pay = frame[kpi_column].isin(sorted(set(pay)))
    if owner_column in frame.columns:
        allowed = frame[owner_column].isin(sorted(scope.owners))
    else:
        allowed = pd.Series(False, index=frame.index)
    keep = ~is_pay | allowed
    return Visible(frame[keep].reset_index(drop=True), int((~keep).sum()))


def visible_targets(targets: Sequence[Target], scope: PayScope) -> list[Target]:
    """The targets of a pay KPI that ``scope`` allows: a person's (``owner:``) when that person is in scope;
    one over many people (no owner) only for pay-data roles, like the KPI's value."""
    if scope.everyone:
        return list(targets)
    return [t for t in targets if t.dims.get(OWNER) in scope.owners]


# -- records ----------------------------------------------------------------------------------------------------


def is_pay_table(table: str) -> bool:
    return table in PAY_TABLES


def check_record_access(viewer: Viewer, table: str) -> None:
    """PermissionDenied when ``viewer`` may list no one's rows of ``table`` at all (a pay table, a viewer linked to
    nobody and without a pay-data role): refused before anything is read, even when the table is empty."""
    if is_pay_table(table) and not viewer.sees_all_pay and viewer.user_id is None:
        raise unlinked(viewer)


def visible_records(
    tables: Tables, table: str, rows: ir.Table, viewer: Viewer | None, *, owner: str | None
) -> ir.Table:
    """``rows`` of ``table`` that ``viewer`` may list; ``owner`` is the person the listing was asked for.

    Not a pay table, a pay-data role, or no viewer (a trusted caller: the CLI, a notebook): unchanged. Asking
    for someone outside the viewer's scope, or a viewer linked to nobody: PermissionDenied (a 403, not an empty
    list a user could take for "no quota"). Otherwise the rows of the people in scope (the caller says rows
    were hidden: :data:`HIDDEN_NOTICE`).
    """
    if viewer is None or not is_pay_table(table) or viewer.sees_all_pay:
        return rows
    check_record_access(viewer, table)
    scope = pay_scope(tables, viewer)
    if owner is not None and not scope.allows(owner):
        raise PermissionDenied(
            f"The {table} of {owner} are pay data; you may see only your own ({viewer.user_id}) and those of "
            "the people who report to you."
        )
    return rows.filter(rows[PAY_TABLES[table]].isin(sorted(scope.owners)))


__all__ = [
    "HIDDEN_NOTICE",
    "OWNER",
    "PAY_ROLES",
    "PayScope",
    "Viewer",
    "Visible",
    "check_kpi_access",
    "check_record_access",
    "hide_pay_rows",
    "is_pay_kpi",
    "is_pay_table",
    "manager_links",
    "pay_scope",
    "reports_of",
    "visible_records",
    "visible_targets",
    "visible_values",
]
