"""``revalign tables``: rows per canonical table and the load history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import emit, print_json
from revalign.jsonsafe import records
from revalign.project import open_project
from revalign.sources import load_history, table_counts

HISTORY_COLUMNS = ["load_id", "loaded_at", "mapping", "file", "target", "rows_read", "rows_loaded", "rows_quarantined"]


@app.command()
def tables(
    project: Annotated[Path, typer.Option("--project", "-p", help="Project folder.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {tables: [...], loads: [...]}.")] = False,
) -> None:
    """Row counts of the canonical tables, and every load (file, target, rows read/loaded/quarantined)."""
    engine = open_project(project).engine
    counts, history = table_counts(engine), load_history(engine)
    history = history[HISTORY_COLUMNS] if len(history) else history.reindex(columns=HISTORY_COLUMNS)
    if as_json:
        print_json({"tables": records(counts), "loads": records(history)})
        return
    counts["last_loaded_at"] = counts["last_loaded_at"].astype(object).where(counts["last_loaded_at"].notna(), None)
    history = history.assign(file=history["file"].map(lambda f: Path(str(f)).name))
    emit(counts, as_json=False, title="Canonical tables")
    emit(history, as_json=False, title="Load history")
