"""``revalign users add|list|token``: dashboard users, roles and API tokens (stored in the app state database)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from revalign.analytics.privacy import manager_links
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, emit
from revalign.project import open_project

if TYPE_CHECKING:
    from revalign.interfaces.server.state import StateStore

users_app = typer.Typer(help="Dashboard users, roles and API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")

ProjectOpt = Annotated[Path, typer.Option(help="Project folder.")]
StateOpt = Annotated[str | None, typer.Option(help="App state database URL (default: SQLite in the project).")]


def open_store(project: Path, state_url: str | None) -> StateStore:
    """The project's state store, migrated to the newest schema."""
    # imported here: the server (FastAPI, SQLAlchemy) takes seconds to import, and only this
    # command needs it (not every `revalign` run)
    from revalign.interfaces.server.state import StateStore, default_state_url

    proj = open_project(project)
    store = StateStore(state_url or proj.settings.state_url or default_state_url(proj.folder))
    store.migrate()
    return store


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[
        str, typer.Option(help="admin, leadership, marketing, sales, revops, finance, customer_success or rep.")
    ] = "leadership",
    owner_id: Annotated[
        str | None,
        typer.Option(
            help="Canonical user_id (users table) the login acts as: a rep's own records, and whose pay data "
            "(quotas, attainment) it sees — its own and its reports' down the manager tree. Required for a rep."
        ),
    ] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
    replace: Annotated[bool, typer.Option(help="Reset an existing user.")] = False,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
) -> None:
    """Create (or with --replace reset) a dashboard user.

    Pay data (quotas, attainment) is shown to finance, revops and admin logins, and otherwise only for the
    person the login is linked to with --owner-id and the people who report to them.
    """
    user = open_store(project, state_url).add_user(username, password, role, owner_id=owner_id, replace=replace)
    console.print(f"User {user.username} ({user.role}) saved.")
    if owner_id is not None and owner_id not in manager_links(open_project(project).tables):
        console.print(
            f"[yellow]Warning:[/yellow] {owner_id} is not in this project's users table (yet): until it is, the "
            "login sees only pay rows of that id and none of anyone reporting to it. Check the id."
        )


@users_app.command("list")
def list_users(project: ProjectOpt = Path("."), state_url: StateOpt = None, json: bool = False) -> None:
    """List users and roles."""
    import pandas as pd

    rows = [
        {"username": u.username, "role": u.role, "owner_id": u.owner_id, "disabled": u.disabled}
        for u in open_store(project, state_url).list_users()
    ]
    emit(pd.DataFrame(rows, columns=["username", "role", "owner_id", "disabled"]), as_json=json, title="Users")


@users_app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="Whose token.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "script",
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
) -> None:
    """Create an API token (printed once; send it as 'Authorization: Bearer <token>')."""
    print(open_store(project, state_url).create_token(username, name))
