"""The driver that moved: the line of the driver-tree decomposition an alert names, so it says *why*.

"New revenue is 18 % below target" starts a hunt; "win rate, sales: −9.5 pts of new revenue" ends it. For a KPI
that is the root of a driver tree, the driver is the leaf of its own decomposition (previous period → alert
period) with the largest absolute contribution. For a KPI inside the north star's tree, it is the largest leaf
at or under that KPI in the north star's decomposition (the KPI itself when it is a leaf). A KPI in no tree has no
driver to name, and the alert says nothing rather than guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from revalign.analytics.governance.decomposition import Contribution, Decomposition
from revalign.definitions.trees import DriverTree
from revalign.display import format_value
from revalign.errors import RevalignError
from revalign.project import Project


@dataclass(frozen=True)
class Driver:
    """A decomposition line and the sentence an alert uses for it."""

    kpi: str
    label: str
    department: str | None
    contribution: float
    text: str


def _largest(rows: list[Contribution]) -> Contribution | None:
    scored = [r for r in rows if r.contribution is not None and not math.isnan(r.contribution)]
    return max(scored, key=lambda r: abs(r.contribution or 0.0), default=None)


def driver_text(row: Contribution, dec: Decomposition, currency: str = "USD") -> str:
    """``"Win rate, sales: −9.5 pts of New revenue, 2025-Q1 → 2025-Q2"``: the contribution in percentage points
    of the root's "before" value when it has one, else in the root's unit."""
    if row.contribution_pct is not None and not math.isnan(row.contribution_pct):
        amount = f"{row.contribution_pct:+.1f} pts".replace("-", "−")
    else:
        amount = format_value(row.contribution, dec.unit, currency=currency, signed=True)
    owner = f", {row.department}" if row.department else ""
    return f"{row.label}{owner}: {amount} of {dec.label}, {dec.period_from} → {dec.period_to}"


def pick_driver(dec: Decomposition, kpi: str) -> Contribution | None:
    """The leaf at or under ``kpi`` with the largest absolute contribution to ``dec``'s change (the residual is
    not a driver: it is the part of the change the tree's formula does not explain)."""
    leaves = [r for r in dec.leaf_rows() if r.kind != "residual"]
    if kpi == dec.root:
        return _largest(leaves)
    return _largest([r for r in leaves if r.kpi == kpi or kpi in r.path])


class DriverFinder:
    """Names the driver that moved a KPI (see the module docstring), decomposing each tree and period once: the
    findings of one alignment check all read the same north-star decomposition."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._memo: dict[tuple[str, str, str, str | None], Decomposition | None] = {}

    def _decomposition(self, tree: DriverTree, period: str, grain: str, where: str | None) -> Decomposition | None:
        key = (tree.name, period, grain, where)
        if key not in self._memo:
            try:
                self._memo[key] = self.project.decompose(
                    tree.root, end=period, grain=grain, tree=tree.name, where=where
                )
            except (RevalignError, ValueError):
                self._memo[key] = None
        return self._memo[key]

    def __call__(self, kpi: str, period: str, grain: str, where: str | None = None) -> Driver | None:
        trees = self.project.driver_trees()
        own = next((t for t in trees.values() if t.root == kpi), None)
        star = next((t for t in trees.values() if t.root == self.project.catalog.north_star), None)
        tree = own or (star if star is not None and kpi in star.kpis else None)
        dec = self._decomposition(tree, period, grain, where) if tree is not None else None
        row = pick_driver(dec, kpi) if dec is not None else None
        if dec is None or row is None or row.contribution is None:
            return None
        text = driver_text(row, dec, self.project.settings.currency)
        return Driver(row.kpi, row.label, row.department, float(row.contribution), text)


def driver_of(project: Project, kpi: str, period: str, grain: str, where: str | None = None) -> Driver | None:
    """The driver that moved ``kpi`` into ``period`` (see the module docstring), or None."""
    return DriverFinder(project)(kpi, period, grain, where)


__all__ = ["Driver", "DriverFinder", "driver_of", "driver_text", "pick_driver"]
