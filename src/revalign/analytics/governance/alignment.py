"""⑤ The alignment check: flag departments that win their own scorecard while the business loses.

Three findings, each naming the KPIs, departments, period and values involved:

``department_green_north_star_off``
    A department's scorecard is green (every KPI it owns that has a target is green) while the north star is
    off target (red: severity ``high``; amber: ``medium``).
``driver_improving_parent_worsening``
    A KPI improved from the previous period (by its direction) while its parent in the tree worsened
    (``high`` when the parent is the north star). Improving a driver that does not move its parent is
    the pattern users fear: lead volume up, revenue down.
``on_target_parent_off_target``
    A KPI is green while its parent is amber or red (``high`` when the parent is red).

A running total is never compared with the KPI it accumulates (``new_revenue_ttm`` "improving" while
``new_revenue`` worsens says nothing), the same finding is reported once, and findings are ranked by severity,
then by revenue impact: the driver's contribution to the north star's change when the caller passes one (the
driver-tree decomposition of the same period), largest first. :data:`KIND_TITLES` gives each kind its own
banner text.

The tree edges are the catalog's ``parent`` links plus, optionally, the edges of a driver tree, so that a
formula driver (say ``new_leads`` under ``new_revenue``) is checked even if its catalog parent differs.
The checks read a joint :class:`~revalign.analytics.governance.scorecard.Scorecard`; they compute nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd

from revalign.analytics.governance.scorecard import Scorecard, ScorecardRow, evaluate_scorecard
from revalign.analytics.targets import TargetBook
from revalign.definitions.issues import Issue
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.trees import DriverTree, find_tree
from revalign.display import format_value
from revalign.errors import UnknownNameError
from revalign.model.access import Tables

Kind = Literal["department_green_north_star_off", "driver_improving_parent_worsening", "on_target_parent_off_target"]
OFF_TARGET = ("amber", "red")
KIND_TITLES: dict[Kind, str] = {
    "department_green_north_star_off": "A department is on target while the north star is off target",
    "driver_improving_parent_worsening": "A driver improved while the KPI it drives got worse",
    "on_target_parent_off_target": "A KPI is on target while the KPI it drives is off target",
}
"""One banner text per kind of finding (pages group findings under these)."""


@dataclass(frozen=True)
class Finding:
    """One misalignment: what, how serious, and the KPIs/departments/values that show it."""

    kind: Kind
    severity: Literal["high", "medium"]
    period: str
    message: str
    kpis: tuple[str, ...]
    departments: tuple[str, ...]
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    impact: float | None = None
    """Revenue at stake: the largest contribution (north-star units, absolute) of the finding's KPIs to the north
    star's change, when a decomposition was given; None otherwise."""

    @property
    def title(self) -> str:
        return KIND_TITLES[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "impact": self.impact,
            "severity": self.severity,
            "period": self.period,
            "message": self.message,
            "kpis": list(self.kpis),
            "departments": list(self.departments),
            "values": self.values,
        }


@dataclass(frozen=True)
class Alignment:
    """Every finding for one scorecard period (empty when the departments and the north star agree)."""

    period: str
    grain: str
    north_star: str | None
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def involving(self, department: str) -> Alignment:
        """Only the findings that name ``department``."""
        kept = tuple(f for f in self.findings if department in f.departments)
        return Alignment(self.period, self.grain, self.north_star, kept)

    def to_pandas(self) -> pd.DataFrame:
        cols = ["kind", "severity", "impact", "period", "message", "kpis", "departments"]
        return pd.DataFrame(
            [
                {**f.to_dict(), "kpis": ", ".join(f.kpis), "departments": ", ".join(f.departments)}
                for f in self.findings
            ],
            columns=[*cols, "values"],
        )[cols]

    def by_kind(self) -> dict[str, list[Finding]]:
        """Findings grouped under their banner text (:data:`KIND_TITLES`), in rank order within each."""
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.title, []).append(f)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "grain": self.grain,
            "north_star": self.north_star,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }


def _fmt(value: float | None, unit: str | None, currency: str) -> str:
    """A value in a message, in its unit (the one formatting layer: ``$800,000``, ``36.1%``, ``6.15×``)."""
    return "n/a" if value is None else format_value(value, unit, currency=currency)


def _facts(r: ScorecardRow) -> dict[str, Any]:
    return {
        "label": r.label,
        "department": r.department,
        "actual": r.actual,
        "target": r.target,
        "status": r.status,
        "previous": r.previous,
        "movement": r.movement,
    }


def _vs_target(r: ScorecardRow, currency: str) -> str:
    return f"{r.label} {_fmt(r.actual, r.unit, currency)} vs target {_fmt(r.target, r.unit, currency)}"


def _move(r: ScorecardRow, currency: str) -> str:
    return f"{r.label} {_fmt(r.previous, r.unit, currency)} → {_fmt(r.actual, r.unit, currency)}"


def _department_findings(
    card: Scorecard, rows: Mapping[str, ScorecardRow], star: ScorecardRow | None, currency: str
) -> list[Finding]:
    """(a) departments green while the north star is off target."""
    findings: list[Finding] = []
    if star is not None and star.status in OFF_TARGET:
        for dept, status in card.department_status().items():
            if status != "green":
                continue
            greens = [r for r in rows.values() if r.department == dept and r.status == "green"]
            listed = "; ".join(_vs_target(r, currency) for r in greens)
            findings.append(
                Finding(
                    kind="department_green_north_star_off",
                    severity="high" if star.status == "red" else "medium",
                    period=card.period,
                    message=(
                        f"{dept} is on target in {card.period} ({listed}) while the north star is {star.status}: "
                        f"{_vs_target(star, currency)}."
                    ),
                    kpis=(star.kpi, *(r.kpi for r in greens)),
                    departments=(dept, *([star.department] if star.department and star.department != dept else [])),
                    values={r.kpi: _facts(r) for r in (star, *greens)},
                )
            )
    return findings


def alignment_findings(
    card: Scorecard,
    edges: Iterable[tuple[str, str]] = (),
    *,
    running_totals: Mapping[str, str] | None = None,
    impact: Mapping[str, float] | None = None,
    currency: str = "USD",
) -> Alignment:
    """Check a joint scorecard for the three misalignments (see the module docstring).

    ``edges`` are ``(child, parent)`` KPI pairs; each row's own ``parent`` is always included. Only
    whole-company rows (no slice dimensions) are checked. ``running_totals`` maps a cumulative KPI to the KPI it
    accumulates (:func:`running_totals`): such pairs are not compared. ``impact`` maps a KPI to its contribution
    to the north star's change (a decomposition's rows): findings are ranked by it. ``currency`` is the project's,
    for the amounts the messages quote.
    """
    rows = {r.kpi: r for r in card.rows if not r.dims}
    star = rows.get(card.north_star) if card.north_star else None
    findings = _department_findings(card, rows, star, currency)

    totals = running_totals or {}
    pairs = dict.fromkeys([*((r.kpi, r.parent) for r in rows.values() if r.parent), *edges])
    for child_name, parent_name in pairs:
        child, parent = rows.get(child_name), rows.get(parent_name)
        if child is None or parent is None or child_name == parent_name:
            continue
        if totals.get(child_name) == parent_name or totals.get(parent_name) == child_name:
            continue  # a running total of the parent moves with it by construction: comparing them is tautological
        depts = tuple(dict.fromkeys(d for d in (child.department, parent.department) if d))
        values = {child.kpi: _facts(child), parent.kpi: _facts(parent)}
        # (b) a driver improving while its parent worsens
        if child.movement == "improving" and parent.movement == "worsening":
            findings.append(
                Finding(
                    kind="driver_improving_parent_worsening",
                    severity="high" if parent.is_north_star else "medium",
                    period=card.period,
                    message=(
                        f"{_move(child, currency)} improved ({child.department or 'no department'}) while its "
                        f"parent {_move(parent, currency)} worsened, {child.previous_period} to {child.period}."
                    ),
                    kpis=(child.kpi, parent.kpi),
                    departments=depts,
                    values=values,
                )
            )
        # (c) a KPI on target whose parent is off target
        if child.status == "green" and parent.status in OFF_TARGET:
            findings.append(
                Finding(
                    kind="on_target_parent_off_target",
                    severity="high" if parent.status == "red" else "medium",
                    period=card.period,
                    message=(
                        f"{_vs_target(child, currency)} is on target ({child.department or 'no department'}) while "
                        f"its parent is {parent.status}: {_vs_target(parent, currency)} in {card.period}."
                    ),
                    kpis=(child.kpi, parent.kpi),
                    departments=depts,
                    values=values,
                )
            )
    return Alignment(card.period, card.grain, card.north_star, _ranked(findings, impact or {}, card.north_star))


def _ranked(findings: list[Finding], impact: Mapping[str, float], north_star: str | None) -> tuple[Finding, ...]:
    """Findings once each (same kind and KPIs), with their impact, by severity then impact (largest first)."""
    unique: dict[tuple[str, tuple[str, ...]], Finding] = {}
    for f in findings:
        at_stake = [abs(impact[k]) for k in f.kpis if k in impact and k != north_star and impact[k] == impact[k]]
        unique.setdefault((f.kind, f.kpis), replace(f, impact=max(at_stake) if at_stake else None))
    order = {"high": 0, "medium": 1}
    return tuple(
        sorted(
            unique.values(),
            key=lambda f: (order[f.severity], -(f.impact if f.impact is not None else -1.0), f.kind, f.kpis),
        )
    )


def running_totals(catalog: Catalog) -> dict[str, str]:
    """Cumulative KPI → the KPI it accumulates (``new_revenue_ttm`` → ``new_revenue``)."""
    return {k.name: k.inputs[0].name for k in catalog.kpis.values() if k.type == "cumulative" and k.inputs}


def alignment_edges(
    catalog: Catalog, trees: Mapping[str, DriverTree], tree: str | None = None
) -> list[tuple[str, str]]:
    """``(child, parent)`` pairs to check: the catalog's parent links plus the formula edges of ``tree`` (default:
    the north star's driver tree, if there is one; otherwise the catalog's links alone)."""
    edges = list(catalog.tree_edges())
    if tree is not None:
        edges += find_tree(trees, name=tree).edges()
    else:
        edges += next((t.edges() for t in trees.values() if t.root == catalog.north_star), [])
    return edges


def evaluate_alignment(
    tables: Tables,
    catalog: Catalog,
    trees: Mapping[str, DriverTree],
    targets: TargetBook | None = None,
    *,
    period: str | None = None,
    grain: str = "quarter",
    department: str | None = None,
    tree: str | None = None,
    card: Scorecard | None = None,
    target_issues: Iterable[Issue] = (),
    fiscal_year_start_month: int = 1,
    impact: Mapping[str, float] | None = None,
    currency: str = "USD",
) -> Alignment:
    """Run the alignment check on the scorecard for ``period`` (default: the latest) over ``tables``.

    Edges come from :func:`alignment_edges`. Without ``department`` the check runs on the joint scorecard (pass
    ``card`` to reuse one already built for the same period). With ``department`` it evaluates only what the
    department's findings can name — its KPIs, their parents and children, and the north star — and keeps the
    findings that involve the department. ``targets``, ``target_issues`` are as for
    :func:`~revalign.analytics.governance.scorecard.evaluate_scorecard`; ``impact`` ranks findings (see
    :func:`alignment_findings`).
    """
    edges = alignment_edges(catalog, trees, tree)
    totals = running_totals(catalog)
    issues = tuple(target_issues)

    def card_of(kpis: list[str] | None) -> Scorecard:
        return evaluate_scorecard(
            tables,
            catalog,
            targets,
            period=period,
            grain=grain,
            kpis=kpis,
            target_issues=issues,
            fiscal_year_start_month=fiscal_year_start_month,
        )

    if department is None:
        if card is None or card.department is not None or card.by:
            card = card_of(None)
        return alignment_findings(card, edges, running_totals=totals, impact=impact, currency=currency)
    own = {k.name for k in catalog.kpis.values() if k.department == department}
    if not own:
        known = {k.department for k in catalog.kpis.values() if k.department}
        raise UnknownNameError("department", department, known)
    near = own | {catalog.north_star}
    near |= {p for c, p in edges if c in own} | {c for c, p in edges if p in own}
    names = [n for n in catalog.kpis if n in near]
    card = card_of(names)
    found = alignment_findings(card, edges, running_totals=totals, impact=impact, currency=currency)
    found = found.involving(department)
    # another department's roll-up on this partial card is incomplete: keep (a) findings for this department only
    kept = tuple(
        f for f in found.findings if f.kind != "department_green_north_star_off" or f.departments[0] == department
    )
    return Alignment(found.period, found.grain, found.north_star, kept)
