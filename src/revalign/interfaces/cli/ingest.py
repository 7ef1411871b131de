"""``revalign ingest``: load a folder (or file) of exports, or warehouse tables, through a mapping, with a progress
bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from revalign.errors import ConfigError
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, emit, err_console, print_json
from revalign.project import open_project
from revalign.sources import ingest as ingest_files
from revalign.sources import load_mapping
from revalign.sources.load import LoadReport
from revalign.sources.load.run import Progress as LoadProgress
from revalign.sources.warehouse import ingest_tables


@app.command()
def ingest(
    path: Annotated[
        Path | None, typer.Argument(help="A folder of exports, or one file (none for a mapping of tables).")
    ] = None,
    mapping: Annotated[
        str,
        typer.Option(
            "--mapping",
            "-m",
            help="Shipped mapping (olist, x_education, generic_crm, canonical, fivetran_salesforce, fivetran_hubspot, "
            "airbyte_hubspot) or a YAML path.",
        ),
    ] = "generic_crm",
    database: Annotated[
        str | None,
        typer.Option(
            help="Where a mapping's tables are: a URL (postgres://…) or a Parquet folder (default: the project's "
            "engine)."
        ),
    ] = None,
    schema: Annotated[
        str | None, typer.Option(help="Schema of the tables (default: the mapping's, e.g. salesforce).")
    ] = None,
    project: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    source_name: Annotated[str | None, typer.Option(help="Name recorded in the load log.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the load report as JSON.")] = False,
) -> None:
    """Load exports into the canonical tables; rejected rows go to quarantine (see `revalign check`).

    A mapping whose targets name tables (fivetran_salesforce, fivetran_hubspot, airbyte_hubspot) reads them in
    place: see docs/warehouse.md. Loading the same file or table twice changes nothing. Exit 0 when the load ran
    (even with quarantined rows), 3 when a file or table cannot be read as its table, 5 for an invalid mapping or a
    missing PATH, 6 for an unknown mapping name.
    """
    proj = open_project(project)

    def run(progress: LoadProgress | None = None) -> LoadReport:
        spec = load_mapping(mapping)
        if any(t.tables for t in spec.targets):
            return ingest_tables(
                proj, spec, database=database, schema=schema, source_name=source_name, progress=progress
            )
        if path is None:
            raise ConfigError(f"Mapping {spec.name!r} reads files: give the folder or file to ingest.")
        return ingest_files(proj, path, spec, source_name=source_name, progress=progress)

    if as_json:
        print_json(run().to_dict())
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

        report = run(progress)
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
