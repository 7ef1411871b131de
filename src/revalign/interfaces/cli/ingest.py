"""``revalign ingest``: load a folder (or file) of exports through a mapping, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, emit, err_console, print_json
from revalign.project import open_project
from revalign.sources import ingest as ingest_files


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A folder of exports, or one file.")],
    mapping: Annotated[
        str,
        typer.Option(
            "--mapping", "-m", help="Shipped mapping (olist, x_education, generic_crm, canonical) or a YAML path."
        ),
    ] = "generic_crm",
    project: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    source_name: Annotated[str | None, typer.Option(help="Name recorded in the load log.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the load report as JSON.")] = False,
) -> None:
    """Load exports into the canonical tables; rejected rows go to quarantine (see `revalign check`).

    Loading the same file twice changes nothing. Exit 0 when the load ran (even with quarantined rows),
    3 when a file cannot be read as its table, 5 for an invalid mapping, 6 for an unknown mapping name.
    """
    proj = open_project(project)
    if as_json:
        report = ingest_files(proj, path, mapping, source_name=source_name)
        print_json(report.to_dict())
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=None)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        report = ingest_files(proj, path, mapping, source_name=source_name, progress=progress)
    for warning in report.warnings:
        err_console.print(f"[yellow]warning[/]: {warning}", highlight=False)
    if report.skipped_as_duplicate:
        console.print(f"Nothing to do: every file was already loaded with mapping {report.mapping!r}.")
        return
    frame = report.to_frame()
    frame["file"] = frame["file"].map(lambda f: Path(f).name)
    emit(frame, as_json=False, title=f"Load {report.load_id} ({report.mapping})")
    for file in report.skipped_files:
        console.print(f"Skipped (already loaded): {file}")
    console.print(f"Ledger events added: {report.events_added:,}")
    if report.rows_quarantined:
        console.print(f"[yellow]{report.rows_quarantined:,} rows quarantined[/]: run `revalign check` to see why.")
