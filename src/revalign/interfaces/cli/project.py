"""``revalign init`` and ``revalign version``: create a project folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign import __version__
from revalign.interfaces.cli.application import app


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Project folder to create.")] = Path("."),
    engine: Annotated[str, typer.Option(help="Engine URL (duckdb file path is relative to the folder).")] = (
        "duckdb:///revalign.duckdb"
    ),
    name: Annotated[str | None, typer.Option(help="Project name (default: the folder name).")] = None,
) -> None:
    """Create a project folder with a revalign.yaml."""
    # imported here, not above: `revalign version` (this module) must start without the library (cli/__init__.py)
    from revalign.interfaces.cli.render import console
    from revalign.project import init_project

    path = init_project(folder, engine_url=engine, name=name)
    console.print(f"Created {path}")


@app.command()
def version() -> None:
    """Print revalign's version."""
    typer.echo(__version__)
