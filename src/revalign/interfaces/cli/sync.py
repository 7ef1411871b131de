"""``revalign sync salesforce|hubspot``: copy the CRM's objects from its API into the project, then load them
(docs/sync.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, emit, err_console, print_json
from revalign.project import open_project
from revalign.sources.sync import SyncReport, sync_hubspot, sync_salesforce

SyncRun = Callable[..., SyncReport]
"""``sync_salesforce`` or ``sync_hubspot``: (project, *, load, progress) → report."""

sync_app = typer.Typer(help="Sync a CRM's API into the project: salesforce, hubspot.", no_args_is_help=True)
app.add_typer(sync_app, name="sync")


@sync_app.command("salesforce")
def salesforce(
    project: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    load: Annotated[bool, typer.Option(help="Load the synced tables into the canonical model.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the sync report as JSON.")] = False,
) -> None:
    """Sync Salesforce (users, accounts, campaigns and members, leads, opportunities, field history), then load it.

    Only what changed since the last sync is read (a cursor per object); credentials come from sync.salesforce in
    revalign.yaml (${ENV} references) or SALESFORCE_* environment variables. Exit 0 when the sync ran, 4 when
    Salesforce cannot be read (sign-in refused, errors after retries), 5 for missing credentials.
    """
    _sync(sync_salesforce, project, load, as_json, "Salesforce")


@sync_app.command("hubspot")
def hubspot(
    project: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    load: Annotated[bool, typer.Option(help="Load the synced tables into the canonical model.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the sync report as JSON.")] = False,
) -> None:
    """Sync HubSpot (owners, deal pipelines, companies, contacts, deals, associations, property history), then load it.

    Only what changed since the last sync is read (a cursor per object); credentials come from sync.hubspot in
    revalign.yaml (${ENV} references) or HUBSPOT_* environment variables: a private app's token, or OAuth. Exit 0
    when the sync ran, 4 when HubSpot cannot be read (token refused, errors after retries), 5 for missing
    credentials.
    """
    _sync(sync_hubspot, project, load, as_json, "HubSpot")


def _sync(run: SyncRun, project: Path, load: bool, as_json: bool, crm: str) -> None:
    """Run one CRM's sync with a live progress line (the object being read, records so far), then show it."""
    proj = open_project(project)
    if as_json:
        print_json(run(proj, load=load).to_dict())
        return
    with Progress(
        TextColumn("{task.description}"), TextColumn("{task.completed:,} records"), TimeElapsedColumn(),
        console=err_console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("sync", total=None)

        def progress(name: str, read: int) -> None:
            bar.update(task, description=name, completed=read)

        report = run(proj, load=load, progress=progress)
    _show(report, crm)


def _show(report: SyncReport, crm: str) -> None:
    frame = report.to_frame()[
        ["sobject", "table", "cursor_field", "cursor_after", "pages", "records", "deleted", "rows"]
    ]
    emit(frame, as_json=False, title=f"{crm} sync ({report.sign_ins} sign-in{'' if report.sign_ins == 1 else 's'})")
    if not report.records:
        console.print("Nothing new since the last sync.")
    if report.load is None:
        return
    if report.load.skipped_as_duplicate:
        console.print("Load: every table was already loaded.")
        return
    console.print(f"Load {report.load.load_id}: {report.load.rows_read:,} rows read, ledger events added: "
                  f"{report.load.events_added:,}")  # fmt: skip
    if report.load.rows_quarantined:
        console.print(f"[yellow]{report.load.rows_quarantined:,} rows quarantined[/]: run `revalign check` to see why.")
