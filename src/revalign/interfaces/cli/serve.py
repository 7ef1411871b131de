"""``revalign serve``: the shared dashboard and REST API over a project folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console
from revalign.project import Project, open_project


def run_server(project: Project, *, host: str, port: int, state_url: str | None = None) -> None:
    """Serve ``project`` with uvicorn until interrupted, reading through a shared (read-only) engine.

    The project is reopened with ``read_only=True``, so on a DuckDB file the server holds the file only while it
    answers a request and ``revalign ingest`` (or any other command) can write it meanwhile; the caller's own
    connection is closed first, since one process cannot hold a DuckDB file read-write and read-only at once.
    """
    import uvicorn

    # imported here: the server (FastAPI, SQLAlchemy) takes seconds to import, and only this
    # command needs it (not every `revalign` run)
    from revalign.interfaces.server import create_app

    project.close()
    shared = open_project(project.folder, engine=project.settings.engine, read_only=True)
    server_app = create_app(shared, state_url=state_url)
    console.print(f"Dashboard: [bold]http://{host}:{port}/[/]   API docs: http://{host}:{port}/docs   (Ctrl+C stops)")
    try:
        uvicorn.run(server_app, host=host, port=port, log_level="warning")
    finally:
        shared.close()


@app.command()
def serve(
    project: Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")] = Path("."),
    host: Annotated[str, typer.Option(help="Interface to listen on; 0.0.0.0 exposes it on the network.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    state_url: Annotated[
        str | None, typer.Option(help="App state database URL (default: SQLite in <project>/.revalign/).")
    ] = None,
) -> None:
    """Serve the dashboard and the REST API (OpenAPI at /docs)."""
    run_server(open_project(project), host=host, port=port, state_url=state_url)
