"""``revalign tree``: the north-star driver tree with values, and why the north star moved.

Prints the one-line explanation a leader reads ("New revenue −12.0%: New leads −7.9 (marketing), …"), the tree
with each driver's values and contribution, and the contribution table; ``--json`` prints the decomposition's
``to_dict()``. All numbers come from :func:`revalign.analytics.governance.decomposition.evaluate_decomposition`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast, get_args

import typer
from rich.tree import Tree

from revalign.analytics.governance.decomposition import Method
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, display_context, print_json, print_table
from revalign.interfaces.cli.usage import usage_error, values_checked
from revalign.project import open_project


@app.command("tree")
def tree_command(
    root: Annotated[str | None, typer.Option(help="Root KPI (default: the catalog's north star).")] = None,
    tree: Annotated[str | None, typer.Option(help="Driver tree by name (e.g. revenue, ltv_cac).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Period to compare from, e.g. 2025-Q1.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Period to compare to (default: the latest).")] = None,
    grain: Annotated[str, typer.Option(help="day, week, month, quarter or year.")] = "quarter",
    method: Annotated[str, typer.Option(help="shapley (any formula) or lmdi (products; else Shapley).")] = "shapley",
    where: Annotated[str | None, typer.Option(help="Explain one slice, e.g. \"segment = 'enterprise'\".")] = None,
    list_trees: Annotated[bool, typer.Option("--list", help="List the driver trees and their formulas.")] = False,
    project: Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Explain the change of the north star between two periods, driver by driver (exact, with residual)."""
    proj = open_project(project)
    if list_trees:
        trees = proj.driver_trees()
        rows = [{"tree": t.name, "node": k, "formula": f.text, "source": t.source} for t in trees.values()
                for k, f in t.formulas.items()]  # fmt: skip
        if as_json:
            print_json([t.to_dict() for t in trees.values()])
        else:
            print_table(rows, title="Driver trees")
        return
    if method not in get_args(Method):
        usage_error("--method must be shapley or lmdi")
    chosen = cast(Method, method)  # checked just above; Typer options are plain strings
    try:
        with values_checked():
            result = proj.decompose(root, start=start, end=end, grain=grain, tree=tree, method=chosen, where=where)
    finally:
        proj.close()
    if as_json:
        print_json(result.to_dict())
        return
    ctx = display_context(proj, grain)

    def num(value: float | None, unit: str | None) -> str:
        return ctx.format(value, unit)

    def pts(value: float | None) -> str:  # a share of the root's change, in percentage points (×100 already)
        return ctx.format(value, "percent_points_x100")

    console.print(f"[bold]{result.summary()}[/]", highlight=False)
    if result.note:
        console.print(f"[yellow]{result.note}[/]", highlight=False)
    console.print(
        f"{result.label}: {num(result.value_from, result.unit)} ({result.period_from}) → "
        f"{num(result.value_to, result.unit)} ({result.period_to}); tree {result.tree!r}, method {result.method}"
        + (f", where {result.where}" if result.where else ""),
        highlight=False,
    )
    nodes: dict[tuple[str, ...], Tree] = {}
    for row in result.rows:
        if row.kind == "residual" and not row.contribution:
            continue
        text = (
            f"{row.label}: {num(row.value_from, row.unit)} → {num(row.value_to, row.unit)}   "
            f"contribution {pts(row.contribution_pct)}"
            + (f" [{row.department}]" if row.department else "")
            + (f"  ({row.note})" if row.note else "")
        )
        if row.kind == "residual":
            text = f"[italic]{row.label}: {pts(row.contribution_pct)}[/]"
        if row.kind == "root":
            nodes[row.path] = Tree(f"[bold]{text}[/]")
        else:
            nodes[row.path] = nodes[row.path[:-1]].add(text)
    if nodes:
        console.print(nodes[(result.root,)], highlight=False)
    columns = ("label", "department", "value_from", "value_to", "contribution", "contribution_pct")
    leaves = [{c: row.to_dict()[c] for c in columns} for row in result.leaf_rows()]
    total = num(result.change, result.unit)
    title = f"Contributions to the change of {result.label} (they add up to {total})"
    print_table(leaves, title=title, context=ctx, row_units=[row.unit for row in result.leaf_rows()])
