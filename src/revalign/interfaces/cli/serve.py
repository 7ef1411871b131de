"""``revalign serve``: the shared dashboard and REST API over a project folder.

Every option can also come from a ``REVALIGN_*`` environment variable (``REVALIGN_PORT`` …), as can the server's
own settings (``REVALIGN_SESSION_HOURS`` …), so a service manager can run it unattended: see
``interfaces/server/environment.py`` and docs/deploy.md. An option given on the command line wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, err_console
from revalign.project import Project, open_project


def run_server(
    project: Project, *, host: str | None = None, port: int | None = None, state_url: str | None = None
) -> None:
    """Serve ``project`` with uvicorn until interrupted, reading through a shared (read-only) engine.

    ``host``, ``port`` and ``state_url`` override their ``REVALIGN_*`` variables; every other setting (log
    level, access log, proxy headers, cache, sessions) comes from the environment. The project is reopened
    with ``read_only=True``, so on a DuckDB file the server holds the file only while it answers a request and
    ``revalign ingest`` (or any other command) can write it meanwhile; the caller's own connection is closed
    first, since one process cannot hold a DuckDB file read-write and read-only at once.
    """
    import uvicorn

    # imported here: the server (FastAPI, SQLAlchemy) takes seconds to import, and only this
    # command needs it (not every `revalign` run)
    from revalign.interfaces.server import access_log, create_app
    from revalign.interfaces.server.environment import serve_environment, unknown_variables

    env = serve_environment({"host": host, "port": port, "state_url": state_url})
    for note in unknown_variables():
        err_console.print(f"[yellow]Warning[/]: {note}", highlight=False)
    project.close()
    shared = open_project(project.folder, engine=project.settings.engine, read_only=True)
    server_app = create_app(shared, state_url=env.state_url, settings=env.server_settings())
    access_log.configure(env.log_level, enabled=env.access_log)
    where = f"http://{env.host}:{env.port}"
    console.print(f"Dashboard: [bold]{where}/[/]   API docs: {where}/docs   (Ctrl+C stops)")
    try:
        uvicorn.run(
            server_app,
            host=env.host,
            port=env.port,
            log_level=env.log_level,
            access_log=False,  # revalign.access writes one structured line per request instead
            proxy_headers=env.proxy_headers,
            forwarded_allow_ips=env.forwarded_allow_ips,
        )
    finally:
        shared.close()


@app.command()
def serve(
    project: Annotated[
        Path | None, typer.Option(help="Project folder (with revalign.yaml). Env: REVALIGN_PROJECT (default .).")
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            help="Interface to listen on; 0.0.0.0 exposes it on the network. Env: REVALIGN_HOST (default 127.0.0.1)."
        ),
    ] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="TCP port. Env: REVALIGN_PORT (default 8000).")] = (
        None
    ),
    state_url: Annotated[
        str | None,
        typer.Option(help="App state database URL (default: SQLite in <project>/.revalign/). Env: REVALIGN_STATE_URL."),
    ] = None,
) -> None:
    """Serve the dashboard and the REST API (OpenAPI at /docs)."""
    from revalign.interfaces.server.environment import serve_environment

    folder = project if project is not None else serve_environment().project
    run_server(open_project(folder), host=host, port=port, state_url=state_url)
