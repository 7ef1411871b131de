"""``revalign sla breaches|compliance|open|volumes``: the agreement's SLAs — breach ledger, compliance, open clocks.

``revalign sla breaches --team T05`` lists closed breaches (entity, SLA, agreement version, owner, team, due,
done, hours late); ``revalign sla compliance --by team_id`` is met / (met + breached + overdue) per SLA, team and
month; ``revalign sla open`` lists the clocks still running, overdue and at risk first; ``revalign sla volumes``
the volume SLAs (MQLs per segment per month) against their minimum. Numbers come from
:mod:`revalign.analytics.sla` through the project; the agreement is ``agreements/*.yaml`` (docs/agreements.md).

Like the SLA page, every command counts only the versions every signatory signed in the app (and a first version
nobody put up for signature): a proposed or edited version shows in ``revalign agreement versions`` but does not
change these numbers until it is signed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import display_context, emit
from revalign.interfaces.cli.users import open_store
from revalign.project import Project, open_project

sla_app = typer.Typer(
    help="SLAs of the marketing–sales agreement: breaches, compliance, open clocks.", no_args_is_help=True
)
app.add_typer(sla_app, name="sla")

ProjectOpt = Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
StartOpt = Annotated[str | None, typer.Option(help="Clocks started on or after this day, e.g. 2025-01-01.")]
EndOpt = Annotated[str | None, typer.Option(help="Clocks started before this day (exclusive).")]
AsOfOpt = Annotated[str | None, typer.Option(help="Evaluate as of this instant (default: the data's latest event).")]
StateOpt = Annotated[str | None, typer.Option(help="App state database URL (default: SQLite in the project).")]


def counted(proj: Project, state_url: str | None) -> frozenset[tuple[str, int]]:
    """The ``(agreement, version)`` pairs the numbers count, read from the sign-off in the app state."""
    # imported here, as in `revalign agreement`: the server's state store takes a while to import
    from revalign.interfaces.server.state.agreement_signoff import approved_versions
    from revalign.interfaces.server.state.approvals import Approvals

    store = open_store(proj.folder, state_url)
    try:
        return approved_versions(proj.agreements(), Approvals(store))
    finally:
        store.close()


@sla_app.command("breaches")
def breaches(
    owner: Annotated[str | None, typer.Option(help="Only this responsible owner (a user id).")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team (a team id).")] = None,
    sla: Annotated[list[str] | None, typer.Option(help="Only these SLAs (repeatable).")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    as_of: AsOfOpt = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The breach ledger: every closed breach with its owner, team, due and done times and hours late."""
    proj = open_project(project)
    try:
        signed = counted(proj, state_url)
        frame = proj.sla_breaches(slas=sla, owner=owner, team=team, start=start, end=end, as_of=as_of, approved=signed)
    finally:
        proj.close()
    emit(frame, as_json=as_json, title=f"SLA breaches ({len(frame)})", context=display_context(proj))


@sla_app.command("compliance")
def compliance(
    by: Annotated[list[str] | None, typer.Option(help="sla (default), team_id and/or owner_id (repeatable).")] = None,
    grain: Annotated[
        str, typer.Option(help="month, quarter or year of the clocks' start; 'all' for one row.")
    ] = "month",
    start: StartOpt = None,
    end: EndOpt = None,
    as_of: AsOfOpt = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compliance per SLA (and team or owner): clocks started, met, breached, overdue, at risk, open, and the rate."""
    keys = tuple(by or ("sla",))
    proj = open_project(project)
    try:
        grained = None if grain == "all" else grain
        signed = counted(proj, state_url)
        frame = proj.sla_compliance(by=keys, grain=grained, start=start, end=end, as_of=as_of, approved=signed)
    finally:
        proj.close()
    emit(frame, as_json=as_json, title="SLA compliance", context=display_context(proj))


@sla_app.command("open")
def open_clocks(
    owner: Annotated[str | None, typer.Option(help="Only this responsible owner (a user id).")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team (a team id).")] = None,
    as_of: AsOfOpt = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Clocks still running: overdue first, then at risk (most of the allowance used), then open."""
    proj = open_project(project)
    try:
        items = proj.sla_items(as_of=as_of, approved=counted(proj, state_url))
    finally:
        proj.close()
    frame = items[items["status"].isin(("overdue", "at_risk", "open"))]
    if owner is not None:
        frame = frame[frame["owner_id"] == owner]
    if team is not None:
        frame = frame[frame["team_id"] == team]
    frame = frame.sort_values("used_share", ascending=False, kind="stable").drop(columns=["stopped_at", "late_hours"])
    emit(frame.reset_index(drop=True), as_json=as_json, title="Open SLA clocks", context=display_context(proj))


@sla_app.command("volumes")
def volumes(
    start: StartOpt = None,
    end: EndOpt = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Volume SLAs per month and slice: the KPI's value against the agreed minimum (met, breached, open)."""
    proj = open_project(project)
    try:
        frame = proj.sla_volumes(start=start, end=end, approved=counted(proj, state_url))
    finally:
        proj.close()
    emit(frame, as_json=as_json, title="Volume SLAs", context=display_context(proj))
