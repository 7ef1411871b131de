"""``revalign check``: everything that needs a person's attention, by section; exit 1 when anything does.

Findings come in sections (``CHECKS``), each a function of the project returning a :class:`Section`. Today:
quarantined input rows. Other checks (the KPI catalog, alignment warnings) append their function to
``CHECKS`` and need no change here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from revalign.interfaces.cli.application import EXIT_FINDINGS, app
from revalign.interfaces.cli.render import console, emit, print_json, records
from revalign.project import Project, open_project
from revalign.sources import quarantine_summary, quarantined


@dataclass
class Section:
    """One kind of finding: a title, a table of findings, how many problems, and a hint for the user."""

    name: str
    title: str
    problems: int
    frame: pd.DataFrame
    hint: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)


def quarantine_section(project: Project, *, include_resolved: bool = False) -> Section:
    """Open quarantined rows grouped by file, table, rule and column (with the first row and an example value).

    ``include_resolved`` also lists entries a later load fixed (with ``resolved_at``/``resolved_by``); only open
    ones count as problems either way.
    """
    summary = quarantine_summary(project.engine, include_resolved=include_resolved)
    rows = quarantined(project.engine, include_resolved=include_resolved)
    still_open = rows[rows["resolved_at"].isna()] if "resolved_at" in rows.columns else rows
    problems = int(still_open.groupby(["file", "target", "row", "load_id"]).ngroups) if len(still_open) else 0
    return Section(
        "quarantine",
        "Quarantined rows (file, rule, column)",
        problems,
        summary,
        hint="Fix the export (or the mapping) and ingest it again; rules are explained in docs/mappings.md.",
        details=records(rows.drop(columns=["quarantined_at"], errors="ignore")),
    )


CHECKS: list[Callable[[Project], Section]] = [quarantine_section]
"""Every check `revalign check` runs, in order. Append a function to add a section."""


def gather_findings(project: Project, *, include_resolved: bool = False) -> list[Section]:
    """Run every check in ``CHECKS`` (the quarantine's with resolved entries too when ``include_resolved``)."""
    return [
        quarantine_section(project, include_resolved=True)
        if include_resolved and check is quarantine_section
        else check(project)
        for check in CHECKS
    ]


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


@app.command()
def check(
    project: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {ok, sections: [...]}.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list quarantined rows a later load resolved (when, and by which load).")
    ] = False,
) -> None:
    """Show open quarantined rows (and other findings). Exit 0 when there is nothing to fix, 1 when there is."""
    sections = gather_findings(open_project(project), include_resolved=show_all)
    total = sum(s.problems for s in sections)
    if as_json:
        print_json(
            {
                "ok": total == 0,
                "sections": [
                    {
                        "name": s.name,
                        "title": s.title,
                        "problems": s.problems,
                        "summary": records(s.frame),
                        "rows": s.details,
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
            else:
                emit(s.frame, as_json=False)
            if s.hint:
                console.print(s.hint)
    if total:
        raise typer.Exit(EXIT_FINDINGS)
