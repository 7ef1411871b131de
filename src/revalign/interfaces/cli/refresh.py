"""``revalign refresh``: load the configured sources, recompute, evaluate the alert rules and deliver what fires.

What a scheduler (cron, a systemd timer, or the server's own ``alerts.refresh`` schedule) runs; docs/alerts.md
shows each. Exit 0 when everything ran, 1 when a source or a rule had a problem (the rest still ran).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign.interfaces.cli.application import EXIT_FINDINGS, app
from revalign.interfaces.cli.render import console, err_console, print_json
from revalign.interfaces.cli.users import open_store
from revalign.project import open_project


@app.command()
def refresh(
    project: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    state_url: Annotated[
        str | None, typer.Option(help="App state database URL (default: SQLite in the project).")
    ] = None,
    sources: Annotated[
        bool, typer.Option("--sources/--no-sources", help="Ingest the configured sources first.")
    ] = True,
    send: Annotated[
        bool, typer.Option("--send/--dry-run", help="Deliver alerts (or only show what would fire).")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Run the configured sources, recompute, and evaluate and deliver alerts (alerts.yaml); exit 1 on problems."""
    # imported here: the server package (FastAPI, SQLAlchemy) takes seconds to import, and only this command
    # and `revalign alerts` need its state store
    from revalign.interfaces.server.scheduler import refresh_and_record

    proj = open_project(project)
    store = open_store(project, state_url)
    try:
        report = refresh_and_record(proj, store, sources=sources, send=send)
    finally:
        store.close()
        proj.close()
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(f"Refresh: {report.summary()}", highlight=False)
        for alert in report.evaluation.alerts if report.evaluation else []:
            line = f"  {alert.outcome:<12} {alert.firing.severity:<8} {alert.firing.title}"
            console.print(line + (f" ({alert.reason})" if alert.outcome != "sent" else ""), highlight=False)
        for problem in report.problems:
            err_console.print(f"[yellow]problem[/]: {problem}", highlight=False)
    if report.problems:
        raise typer.Exit(EXIT_FINDINGS)
