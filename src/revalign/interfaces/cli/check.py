"""``revalign check``: everything that needs a person's attention, by section; exit 1 when anything does.

The sections (KPI catalog, driver trees, funnels, targets, quarantined rows) are computed by
:mod:`revalign.checks`, which ``GET /api/v1/checks`` serves too; this command only prints them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from revalign.checks import needs_attention, project_checks
from revalign.interfaces.cli.application import EXIT_FINDINGS, app
from revalign.interfaces.cli.render import console, emit, print_json, records
from revalign.project import open_project


def _print_grouped(frame: pd.DataFrame) -> None:
    """One line per file, rule and column: readable at any terminal width (tables truncate paths)."""
    for file, group in frame.groupby("file", sort=True):
        console.print(f"  [bold]{file}[/]", highlight=False, soft_wrap=True)
        for r in group.itertuples(index=False):
            column = r.column if isinstance(r.column, str) else "(whole line)"
            status = f" ({r.status})" if isinstance(getattr(r, "status", None), str) else ""
            console.print(
                f"    {r.rule} · {column} · {r.table}: {r.rows:,} row(s){status}; first row {r.first_row}, "
                f"value {r.example_value!r}",
                highlight=False,
                soft_wrap=True,
            )


def _print_issues(frame: pd.DataFrame) -> None:
    """One line per definition issue, ``file:line [subject] (rule): message`` (or the target's ``where``)."""
    subject = next((c for c in ("kpi", "tree", "funnel") if c in frame.columns), None)
    for r in frame.to_dict(orient="records"):
        if "where" in r:
            where = r["where"]
        else:
            where = f"{r['file']}:{int(r['line'])}" if pd.notna(r["line"]) else str(r["file"])
        who = f" [{r[subject]}]" if subject and isinstance(r[subject], str) else ""
        level = "" if r["level"] == "ERROR" else f"{r['level']} "
        path = f" {r['path']}:" if isinstance(r.get("path"), str) else ""
        text = f"  {level}{where}{who} ({r['rule']}):{path} {r['message']}"
        console.print(text, markup=False, highlight=False, soft_wrap=True)


@app.command()
def check(
    project: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {ok, sections: [...]}.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list quarantined rows a later load resolved (when, and by which load).")
    ] = False,
) -> None:
    """Show what needs fixing: quarantined rows, KPI inputs with no data, catalog, tree, funnel and target issues.

    Exit 1 when anything does.
    """
    sections = project_checks(open_project(project), include_resolved=show_all)
    if as_json:
        print_json(
            {
                "ok": not needs_attention(sections),
                "sections": [
                    {
                        "name": s.name,
                        "title": s.title,
                        "problems": s.problems,
                        "summary": records(s.frame),
                        "rows": records(s.rows),
                    }
                    for s in sections
                ],
            }
        )
    else:
        for s in sections:
            if s.problems == 0:
                console.print(f"[green]✓[/] {s.title}: none")
                continue
            console.print(f"[bold red]✗[/] {s.title}: {s.problems:,}")
            if {"file", "rule", "column", "rows"} <= set(s.frame.columns):
                _print_grouped(s.frame)
            elif {"level", "rule", "message"} <= set(s.frame.columns):
                _print_issues(s.frame)
            else:
                emit(s.frame, as_json=False)
            if s.hint:
                console.print(s.hint)
    if needs_attention(sections):
        raise typer.Exit(EXIT_FINDINGS)
