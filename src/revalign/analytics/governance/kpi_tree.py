"""The whole KPI tree: every KPI of a scorecard placed under its catalog parent, down from the north star.

The driver tree of :mod:`.decomposition` holds the few KPIs whose formula multiplies out to the north star
(leads × conversion × win rate × deal size); the catalog's ``parent:`` links place *every* department KPI
(an SLA compliance under MQL-to-SQL rate, cost per lead under CAC…). Leaders read the second as "what my
team's number feeds", so the tree page shows it, coloured by each KPI's status on the same scorecard everyone
sees, with the decomposition's contribution where a KPI is also a formula driver.

A KPI whose parent chain never reaches the north star (no ``parent:``, a parent that is not on the card, or
parents in a loop) is a root of its own, listed after the north star's tree: an unlinked KPI is an alignment
finding, not something to hide, and no KPI of the card is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from revalign.analytics.governance.decomposition import Decomposition
from revalign.analytics.governance.scorecard import Scorecard, ScorecardRow

TREE_COLUMNS = (
    "kpi",
    "label",
    "department",
    "depth",
    "parent",
    "linked",
    "children",
    "status",
    "actual",
    "target",
    "attainment",
    "change",
    "pct_change",
    "contribution",
    "contribution_pct",
    "unit",
)
"""One row per KPI, depth first (a parent before its children, siblings by department then name)."""


@dataclass(frozen=True)
class _Links:
    """Who is under whom on this card."""

    children: Mapping[str, list[str]]
    roots: list[str]


def _links(rows: Mapping[str, ScorecardRow], north_star: str | None) -> _Links:
    children: dict[str, list[str]] = {name: [] for name in rows}
    roots: list[str] = []
    for name, row in rows.items():
        parent = row.parent if row.parent in rows and row.parent != name else None
        if parent is None:
            roots.append(name)
        else:
            children[parent].append(name)

    def order(name: str) -> tuple[bool, str, str]:
        return (name != north_star, rows[name].department or "", name)

    for kids in children.values():
        kids.sort(key=order)
    roots.sort(key=order)
    return _Links(children, roots)


def _descendants(links: _Links, top: str) -> list[tuple[str, int]]:
    """``top`` and everything under it, depth first, with each one's depth (a cycle is cut where it closes)."""
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    stack = [(top, 0)]
    while stack:
        name, depth = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        out.append((name, depth))
        stack.extend((kid, depth + 1) for kid in reversed(links.children[name]))
    return out


def kpi_tree(
    card: Scorecard, decomposition: Decomposition | None = None, *, where: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Every KPI of ``card`` placed under its parent, the north star's tree first, with its status and, when
    ``decomposition`` is given, its contribution to the root's change.

    A card sliced ``by`` dimensions needs ``where`` naming one value of each (``{"segment": "smb"}``): the tree
    of that slice. ``linked`` says whether the KPI's parent chain reaches the north star; ``children`` how many
    KPIs sit right under it (the page folds those).
    """
    chosen = dict(where or {})
    if set(chosen) != set(card.by):
        raise ValueError(f"the card is sliced by {list(card.by)}: name one value of each (where), not {chosen}")
    rows = {r.kpi: r for r in card.rows if all(r.dims.get(d) == v for d, v in chosen.items())}
    links = _links(rows, card.north_star)
    contributions = {c.kpi: c for c in (decomposition.rows if decomposition else ()) if c.kind != "residual"}
    ordered: list[tuple[str, int, bool]] = []
    for root in links.roots:
        linked = root == card.north_star
        ordered += [(name, depth, linked) for name, depth in _descendants(links, root)]
    placed = {name for name, _, _ in ordered}
    for name in sorted(set(rows) - placed):  # parents in a loop (a ↔ b): placed too, from the first, unlinked
        if name not in placed:
            ordered += [(n, d, False) for n, d in _descendants(links, name) if n not in placed]
            placed |= {n for n, _, _ in ordered}
    records = []
    for name, depth, linked in ordered:
        row, c = rows[name], contributions.get(name)
        records.append(
            {
                "kpi": name,
                "label": row.label,
                "department": row.department,
                "depth": depth,
                "parent": row.parent if depth else None,  # a loop's first KPI is shown as its root
                "linked": linked,
                "children": len(links.children[name]),
                "status": row.status,
                "actual": row.actual,
                "target": row.target,
                "attainment": row.attainment,
                "change": row.change,
                "pct_change": row.pct_change,
                "contribution": c.contribution if c else None,
                "contribution_pct": c.contribution_pct if c else None,
                "unit": row.unit,
            }
        )
    return pd.DataFrame(records, columns=list(TREE_COLUMNS))
