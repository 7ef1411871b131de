"""``revalign kpi list|show|eval|store|explain|export``: the KPI catalog from the command line.

``revalign kpi list --department sales``; ``revalign kpi show win_rate``;
``revalign kpi eval win_rate new_revenue --grain quarter --by segment --start 2025-Q1 --compare previous_period``;
``revalign kpi explain win_rate --engine spark``; ``revalign kpi export --format metricflow --out semantic/``.
Tables take ``--json``. Numbers come from ``revalign.kpis``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.tree import Tree as RichTree

from revalign.errors import UnknownNameError
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, display_context, emit, err_console, print_json, status_text
from revalign.kpis import evaluate, query
from revalign.kpis.export import FORMATS, export_metricflow
from revalign.kpis.store import stored_versions
from revalign.project import open_project

kpi_app = typer.Typer(help="The KPI catalog: list, show, evaluate, explain and export KPIs.", no_args_is_help=True)
app.add_typer(kpi_app, name="kpi")

ProjectOpt = Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@kpi_app.command("list")
def list_(
    department: Annotated[str | None, typer.Option(help="Only this department's KPIs.")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Every KPI of the catalog: name, label, type, unit, owner, department, direction, parent."""
    cat = open_project(project).catalog
    rows = [
        {
            "name": k.name,
            "label": k.label,
            "type": k.type,
            "unit": k.unit,
            "owner": k.owner,
            "department": k.department,
            "direction": k.direction,
            "timing": k.timing,
            "parent": k.parent or ("(north star)" if k.north_star else None),
        }
        for k in cat.kpis.values()
        if department is None or k.department == department
    ]
    emit(pd.DataFrame(rows), as_json=as_json, title=f"{len(rows)} KPIs")


@kpi_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="KPI name.")],
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """One KPI's full definition, where it is defined, its driver-tree parent chain and its dimensions.

    ``joined_dimensions`` lists what a join reaches by the qualified name that picks that join (``team__region``
    via owner → team), for when the plain name means the KPI's own column.
    """
    cat = open_project(project).catalog
    kpi = cat.get(name)
    data = kpi.model_dump(mode="json", exclude_defaults=True)
    data["defined_in"] = str(kpi.ctx)
    data["parent_chain"] = cat.ancestors(name)
    data["dimensions"] = cat.dimensions_of(name)
    data["joined_dimensions"] = cat.joined_dimensions_of(name)
    if as_json:
        print_json(data)
        return
    rows = [{"key": k, "value": v if isinstance(v, str) else str(v)} for k, v in data.items()]
    emit(pd.DataFrame(rows), as_json=False, title=f"{kpi.label} ({kpi.name})")


@kpi_app.command("eval")
def eval_(
    names: Annotated[list[str], typer.Argument(help="KPI names.")],
    grain: Annotated[
        str, typer.Option(help="day, week, month, quarter or year (fiscal), or all (one value over the whole range).")
    ] = "month",
    by: Annotated[list[str] | None, typer.Option(help="Slice by a dimension (repeatable): --by segment.")] = None,
    start: Annotated[str | None, typer.Option(help="First period: 2025-Q1, 2025-03, 2025 or a date.")] = None,
    end: Annotated[str | None, typer.Option(help="Last period (inclusive label) or end date (exclusive).")] = None,
    where: Annotated[list[str] | None, typer.Option(help="Filter, e.g. \"segment = 'smb'\" (repeatable).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Evaluate on the data as known on this date (YYYY-MM-DD).")] = None,
    compare: Annotated[str | None, typer.Option(help="previous_period or previous_year.")] = None,
    definitions: Annotated[str, typer.Option(help="historical or current (for revised KPIs).")] = "historical",
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Evaluate KPIs by period (and dimensions): one row per KPI, period and slice.

    Values read in their units (36.1%, $3,273,400) and periods by name (2025-Q4); ``--json`` keeps raw values.
    """
    proj = open_project(project)
    frame = evaluate(
        proj.tables,
        proj.catalog,
        names,
        grain=grain,
        by=tuple(by or ()),
        start=start,
        end=end,
        where=list(where or ()),
        as_of=as_of,
        compare=compare,
        definitions=definitions,
        fiscal_year_start_month=proj.settings.fiscal_year_start_month,
    )
    emit(frame, as_json=as_json, title=", ".join(names), context=display_context(proj, grain))
    for name, why in query(proj.tables, proj.catalog, names).unavailable().items():
        err_console.print(f"{name}: no value: {why}", highlight=False, soft_wrap=True)


@kpi_app.command("store")
def store(
    project: ProjectOpt = Path("."),
    build: Annotated[
        bool, typer.Option("--build/--show", help="Build the store for the current data (or only show it).")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Materialise every KPI × grain × standard slice for the current data, so requests read stored values.

    ``revalign refresh`` does it after each load when revalign.yaml says ``kpi_store: true`` (docs/kpi_store.md).
    """
    proj = open_project(project)
    if build:
        report = proj.refresh_kpi_store()
        err_console.print(report.summary(), highlight=False)
    emit(stored_versions(proj.tables), as_json=as_json, title="KPI store")


@kpi_app.command("explain")
def explain(
    names: Annotated[list[str], typer.Argument(help="KPI names.")],
    engine: Annotated[str | None, typer.Option(help="duckdb, postgres or spark (default: the project's).")] = None,
    grain: Annotated[str, typer.Option(help="Time grain.")] = "month",
    by: Annotated[list[str] | None, typer.Option(help="Dimensions (repeatable).")] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Print the SQL a KPI compiles to for an engine (compiling never touches data)."""
    proj = open_project(project)
    print(proj.kpi(*names).grain(grain).by(*(by or ())).explain(engine=engine))


@kpi_app.command("export")
def export(
    format: Annotated[str, typer.Option("--format", help="Target: metricflow (a dbt semantic-layer project).")],
    out: Annotated[Path, typer.Option(help="Folder to write the files into (created if needed).")] = Path("metricflow"),
    dialect: Annotated[str, typer.Option(help="SQL dialect of expressions: duckdb, postgres, spark, ...")] = "duckdb",
    project: ProjectOpt = Path("."),
) -> None:
    """Write the catalog as a dbt semantic-layer project: semantic models, metrics, time spine (docs/metricflow.md)."""
    if format not in FORMATS:
        raise UnknownNameError("export format", format, FORMATS)
    written = export_metricflow(open_project(project).catalog, out, dialect=dialect)
    for path in written:
        print(path)


@kpi_app.command("tree")
def tree(
    period: Annotated[str | None, typer.Option(help="Period, e.g. 2025-Q4 (default: the latest).")] = None,
    grain: Annotated[str, typer.Option(help="day, week, month, quarter or year.")] = "quarter",
    segment: Annotated[str | None, typer.Option(help="One segment's tree (smb, mid_market, enterprise).")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Every KPI under its catalog parent, down from the north star: status, actual vs target, change and the
    contribution to the north star's change (the Driver tree page's numbers). KPIs not linked to the north star
    come last."""
    proj = open_project(project)
    try:
        frame = proj.kpi_tree(period=period, grain=grain, segment=segment)
    finally:
        proj.close()
    if as_json:
        print_json(frame)
        return
    ctx = display_context(proj, grain)
    nodes: dict[str, RichTree] = {}
    roots: list[RichTree] = []
    for row in frame.itertuples(index=False):
        text = f"{row.label} {status_text(str(row.status))} {ctx.format(row.actual, row.unit)}"
        if row.target is not None and not pd.isna(row.target):
            text += f" (target {ctx.format(row.target, row.unit)})"
        if row.contribution is not None and not pd.isna(row.contribution):
            text += f", drives {ctx.format(row.contribution, ctx.unit_of(str(frame['kpi'].iloc[0])))}"
        if not row.linked and not row.depth:
            text = f"[yellow]not linked to the north star:[/] {text}"
        parent = nodes.get(str(row.parent)) if row.depth else None
        nodes[str(row.kpi)] = parent.add(text) if parent is not None else RichTree(text)
        if parent is None:
            roots.append(nodes[str(row.kpi)])
    for root in roots:
        console.print(root, highlight=False)
