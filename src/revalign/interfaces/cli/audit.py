"""``revalign audit``: the credit-integrity findings — overwritten sources, re-created leads, duplicates, pushed
close dates, skipped stages, back-dated changes and late owner flips (docs/audit.md).

The table shows what a reviewer scans first (kind, record, who, when, the credit that moved and the revenue at
stake); ``--json`` prints every column of every finding as ``{"findings": [...]}`` for scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, display_context, print_json, print_table
from revalign.jsonsafe import records
from revalign.project import open_project

TABLE_COLUMNS = (
    "kind",
    "entity_id",
    "revenue_at_stake",
    "channel_from",
    "channel_to",
    "actor_id",
    "occurred_at",
    "related_id",
    "confidence",
    "detail",
)
"""The columns of the text table, most wanted first (a narrow terminal leaves out the last; ``--json`` has all)."""


@app.command()
def audit(
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only this kind (repeatable), e.g. lead_source_overwrite.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only findings that occurred on or after this day, e.g. 2025-01-01.")
    ] = None,
    project: Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help='Print {"findings": [...]} instead of a table.')] = False,
) -> None:
    """Credit-gaming and data faults found in the ledger, with who, when and the revenue at stake."""
    proj = open_project(project)
    try:
        findings = proj.audit_findings(kinds=kind or None, since=since)
        context = display_context(proj)
    finally:
        proj.close()
    if as_json:
        print_json({"findings": records(findings)})
        return
    if findings.empty:
        console.print("No findings.")
        return
    counts = findings.groupby("kind", sort=False).size()
    title = "Audit findings: " + ", ".join(f"{n} {k}" for k, n in counts.items())
    print_table(findings[list(TABLE_COLUMNS)], title, context=context)
