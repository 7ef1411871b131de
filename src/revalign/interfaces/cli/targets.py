"""``revalign targets plan|list|check``: the project's targets, planned from last year, listed and validated.

``revalign targets plan --year 2026 --growth 0.15 --override new_revenue=0.3 --override win_rate=points:0.03``
writes ``targets.csv`` (refuses to overwrite without ``--force``; ``--dry-run`` only prints);
``revalign targets list`` shows every target in force and where it comes from; ``revalign targets check``
validates the project's target files (exit 1 with every problem: file, line or row, column, KPI, rule); the
same problems are a section of ``revalign check``.
Numbers come from ``revalign.analytics.governance.planning`` and ``revalign.analytics.targets``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from revalign.analytics.governance.planning import parse_overrides
from revalign.analytics.targets import targets_in_force
from revalign.definitions.issues import errors
from revalign.definitions.target_files import project_target_files
from revalign.interfaces.cli.application import EXIT_FINDINGS, app
from revalign.interfaces.cli.render import console, display_context, emit, print_json, print_table
from revalign.interfaces.cli.usage import usage_error, values_checked
from revalign.project import open_project

targets_app = typer.Typer(
    help="Targets: plan them from last year's actuals, list them, check them.", no_args_is_help=True
)
app.add_typer(targets_app, name="targets")

ProjectOpt = Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@targets_app.command("plan")
def plan(
    year: Annotated[str, typer.Option(help="Plan year: 2026 or FY2026 (fiscal); the base is the year before.")],
    grain: Annotated[str, typer.Option(help="month, quarter or year.")] = "quarter",
    by: Annotated[list[str] | None, typer.Option(help="Also plan per slice (repeatable): --by segment.")] = None,
    kpi: Annotated[list[str] | None, typer.Option(help="Only these KPIs (repeatable; default: all).")] = None,
    department: Annotated[str | None, typer.Option(help="Only this department's KPIs.")] = None,
    growth: Annotated[float, typer.Option(help="Relative growth for non-percent KPIs: 0.1 = +10 %.")] = 0.10,
    points: Annotated[float, typer.Option(help="Uplift for percent KPIs, in fraction points: 0.02 = +2 pts.")] = 0.02,
    override: Annotated[
        list[str] | None,
        typer.Option(
            help="Per-KPI rule (repeatable): new_revenue=0.3, win_rate=points:0.03, sales_headcount=hold, "
            "new_revenue=total:12000000 (a yearly total phased like last year)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="File to write (.csv or .yaml; default: targets.csv).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")] = False,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Propose targets for a year from last year's same-period actuals (growth, points or hold per KPI)."""
    proj = open_project(project)
    path = out if out is not None else Path("targets.csv")
    path = path if path.is_absolute() else proj.folder / path
    if not dry_run and path.exists() and not force:
        usage_error(f"{path} exists; pass --force to overwrite it, --out for another file, or --dry-run to only print.")
    try:
        with values_checked():
            rules = parse_overrides(override or ())
            result = proj.plan(
                year,
                grain=grain,
                by=tuple(by or ()),
                kpis=kpi,
                department=department,
                growth=growth,
                points=points,
                overrides=rules,
            )
    finally:
        proj.close()
    if not dry_run:
        result.write(path)
    if as_json:
        print_json({**result.to_dict(), "written": None if dry_run else str(path)})
        return
    shown = result.targets[["kpi", "period", *result.by, "value", "base_period", "base_value", "rule"]]
    context = display_context(proj, result.grain)
    print_table(shown, title=f"Targets for {result.year} by {result.grain} ({len(shown)})", context=context)
    if not result.missing.empty:
        console.print(f"[yellow]{len(result.missing)} KPI × period(s) without a base value get no target:[/]")
        print_table(result.missing)
    off = result.consistency[~result.consistency["consistent"].astype(bool)] if result.consistency is not None else None
    if off is not None and not off.empty:
        console.print("[yellow]The drivers' targets do not add up to their parent's (growth over last year):[/]")
        print_table(off[["kpi", "period", "target_growth", "implied_growth", "gap", "drivers"]], context=context)
    console.print("Dry run: nothing written." if dry_run else f"Wrote {path}", highlight=False)


@targets_app.command("list")
def list_(
    kpi: Annotated[list[str] | None, typer.Option(help="Only these KPIs (repeatable).")] = None,
    source: Annotated[str, typer.Option(help="project, catalog or all.")] = "all",
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Every target the project knows (project files, then the catalog), where it is written, and if in force."""
    if source not in ("project", "catalog", "all"):
        usage_error(f"--source must be project, catalog or all; got {source!r}")
    proj = open_project(project)
    try:
        book = proj.targets()
        frame = targets_in_force(book, proj.catalog, kpis=kpi)
    finally:
        proj.close()
    if source != "all":
        frame = frame[frame["source"] == source]
    emit(frame.reset_index(drop=True), as_json=as_json, title=f"{len(frame)} targets", context=display_context(proj))


@targets_app.command("check")
def check(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Validate the project's targets: KPI, period, slice, value and range, with file and line or row (exit 1)."""
    proj = open_project(project)
    try:
        settings = proj.settings
        book, issues = proj.checked_targets()
        files = ["revalign.yaml"] if proj.settings.targets else []
        files += [str(p.relative_to(proj.folder)) if p.is_relative_to(proj.folder) else str(p)
                  for p in project_target_files(proj.folder, settings.target_files)]  # fmt: skip
    finally:
        proj.close()
    if as_json:
        ok = not errors(issues)
        print_json({"ok": ok, "targets": len(book), "files": files, "issues": [i.to_dict() for i in issues]})
    elif issues:
        print_table(pd.DataFrame([{"level": i.level.name, "where": i.where, "kpi": i.kpi, "rule": i.rule,
                                   "message": i.message} for i in issues]),
                    title=f"{len(issues)} problem(s) in the targets")  # fmt: skip
    else:
        where = ", ".join(files) or "no target files"
        console.print(f"[green]OK[/]: {len(book)} project targets ({where}).", highlight=False)
    if issues:
        raise typer.Exit(EXIT_FINDINGS)
