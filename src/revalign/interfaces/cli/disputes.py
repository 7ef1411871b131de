"""``revalign disputes list|open|comment|resolve``: the disputes of the app (the same store as the ``/disputes``
page), for scripts and for whoever runs the project from a terminal.

Each step is taken as a named user (``--user``), with that user's role and side: the same checks as the API (a
note on every step, one open dispute per subject, who may uphold, overturn or withdraw). The operator running the
CLI has the project's files, so ``list`` shows every dispute unless ``--user`` asks for what one login sees of
them (its team's records; pay data only where it may see the value)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, emit, print_json
from revalign.interfaces.cli.users import ProjectOpt, StateOpt, open_store
from revalign.project import open_project

if TYPE_CHECKING:
    from revalign.interfaces.server.state.disputes import Dispute

disputes_app = typer.Typer(help="Disputes: contest a number or an MQL's rejection; a thread, an owner, a resolution.")
app.add_typer(disputes_app, name="disputes", no_args_is_help=True)
UserOpt = Annotated[str, typer.Option("--user", help="The app user taking this step (their role is their side).")]
NoteOpt = Annotated[str, typer.Option(help="What is wrong and why (required).")]
COLUMNS = ["id", "status", "title", "department", "against", "owner", "resolution", "opened_by", "opened_at"]


def _show(dispute: Dispute, as_json: bool) -> None:
    body = dispute.to_dict()
    if as_json:
        print_json(body)
        return
    console.print(f"#{body['id']} [{body['status']}] {body['title']}", highlight=False)
    for e in body["thread"]:
        console.print(f"  {e['at']} {e['by']} ({e['role']}) {e['action']} {e['value'] or ''} {e['text'] or ''}")


@disputes_app.command("list")
def list_disputes(
    status: Annotated[str | None, typer.Option(help="open or resolved (default: both).")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only what this login may see.")] = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    json: bool = False,
) -> None:
    """List disputes, newest first."""
    # imported here: the server (FastAPI, SQLAlchemy) takes seconds to import, and only these commands need it
    import pandas as pd

    from revalign.interfaces.server.cache import ReportCache
    from revalign.interfaces.server.reports.disputes import viewing
    from revalign.interfaces.server.state.disputes import Disputes

    store = open_store(project, state_url)
    found = Disputes(store).find(status=status)
    if user is not None:
        view = viewing(open_project(project), ReportCache(), store.get_user(user))
        found = [d for d in found if view.sees(d)]
    rows: list[dict[str, Any]] = [{k: d.to_dict()[k] for k in COLUMNS} for d in found]
    emit(pd.DataFrame(rows, columns=COLUMNS), as_json=json, title="Disputes")


@disputes_app.command("open")
def open_dispute(
    user: UserOpt,
    note: NoteOpt,
    kind: Annotated[str, typer.Option(help="kpi, mql_rejection or record.")],
    kpi: Annotated[str | None, typer.Option(help="kind kpi: the KPI.")] = None,
    period: Annotated[str | None, typer.Option(help="kind kpi: 2025, 2025-Q2, 2025-03.")] = None,
    slice_: Annotated[list[str] | None, typer.Option("--slice", help="kind kpi: dim=value (repeat).")] = None,
    lead_id: Annotated[str | None, typer.Option(help="kind mql_rejection: the rejected lead.")] = None,
    table: Annotated[str | None, typer.Option(help="kind record: the table.")] = None,
    record_id: Annotated[str | None, typer.Option(help="kind record: the record's id.")] = None,
    department: Annotated[str | None, typer.Option(help="The side (admins only).")] = None,
    against: Annotated[str | None, typer.Option(help="kind record: the other side.")] = None,
    owner: Annotated[str | None, typer.Option(help="Assign it to this user.")] = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    json: bool = False,
) -> None:
    """Open a dispute; the other side finds it in their inbox and on their pages."""
    from revalign.interfaces.server.reports.disputes import inbox_notifier, subject_facts
    from revalign.interfaces.server.state.disputes import Disputes, Subject, side_of

    pairs = dict(item.split("=", 1) for item in slice_ or [] if "=" in item)
    subject = Subject.checked(
        kind, kpi=kpi, period=period, slice=pairs, lead_id=lead_id, table=table, record_id=record_id
    )
    store = open_store(project, state_url)
    who = store.get_user(user)
    facts = subject_facts(open_project(project), subject, side_of(who, department), against)
    disputes = Disputes(store, inbox_notifier(store))
    _show(disputes.open(who, subject, facts, note, department=department, owner=owner), json)


@disputes_app.command("comment")
def comment(
    dispute_id: Annotated[int, typer.Argument(help="The dispute's id.")],
    user: UserOpt,
    text: Annotated[str, typer.Option(help="The comment.")],
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    json: bool = False,
) -> None:
    """Add a comment to a dispute's thread."""
    from revalign.interfaces.server.state.disputes import Disputes

    store = open_store(project, state_url)
    _show(Disputes(store).comment(store.get_user(user), dispute_id, text), json)


@disputes_app.command("resolve")
def resolve(
    dispute_id: Annotated[int, typer.Argument(help="The dispute's id.")],
    user: UserOpt,
    resolution: Annotated[str, typer.Option(help="upheld, overturned or withdrawn.")],
    note: NoteOpt,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    json: bool = False,
) -> None:
    """Resolve a dispute (upheld / overturned: the other side or RevOps; withdrawn: the opener)."""
    from revalign.interfaces.server.reports.disputes import inbox_notifier
    from revalign.interfaces.server.state.disputes import Disputes

    store = open_store(project, state_url)
    _show(Disputes(store, inbox_notifier(store)).resolve(store.get_user(user), dispute_id, resolution, note), json)
