"""``revalign writeback salesforce|hubspot``: write lead scores, audited sources and marketing credit to CRM fields
(docs/writeback.md).

A dry run unless told ``--apply``: the command plans first and prints every change (record, field, old → new), so
nothing reaches the CRM that was not shown. ``--apply`` sends the same plan and reports any record the CRM
refused; run it again and the plan is empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from revalign.analytics.writeback import UNITS
from revalign.display.units import format_value
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, print_json, print_table
from revalign.interfaces.cli.users import open_store
from revalign.interfaces.server.state.audit import AuditDecisions
from revalign.project import open_project
from revalign.project.writeback import Crm
from revalign.sources.writeback import ApplyReport, WritebackPlan

SHOWN = 50
"""Changes printed in the table (all of them with ``--all`` or ``--json``): a first run plans thousands."""

CRM_NAMES: dict[Crm, str] = {"salesforce": "Salesforce", "hubspot": "HubSpot"}

writeback_app = typer.Typer(help="Write revalign's values back to a CRM: salesforce, hubspot.", no_args_is_help=True)
app.add_typer(writeback_app, name="writeback")


ProjectOption = Annotated[Path, typer.Option("--project", "-p", help="Project folder.")]
ApplyOption = Annotated[bool, typer.Option("--apply", help="Write the changes (default: only list them).")]
AllOption = Annotated[bool, typer.Option("--all", help=f"List every change, not the first {SHOWN}.")]
StateOption = Annotated[str | None, typer.Option(help="App state database URL, for the reviewers' audit decisions.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the plan (and what was applied) as JSON.")]


@writeback_app.command("salesforce")
def salesforce(
    project: ProjectOption = Path("."),
    apply: ApplyOption = False,
    show_all: AllOption = False,
    state_url: StateOption = None,
    as_json: JsonOption = False,
) -> None:
    """Plan (and with --apply, make) the changes that put revalign's lead scores, audited sources and marketing
    credit into Salesforce's fields (writeback.salesforce in revalign.yaml; credentials as for revalign sync).

    Only fields whose value differs are changed, and only records Salesforce has. Exit 0 when the plan (or the
    apply) ran, 4 when Salesforce cannot be read or written, 5 for missing settings or fields; a record Salesforce
    refuses is listed and the others are written (exit 1).
    """
    _writeback("salesforce", project, apply=apply, show_all=show_all, state_url=state_url, as_json=as_json)


@writeback_app.command("hubspot")
def hubspot(
    project: ProjectOption = Path("."),
    apply: ApplyOption = False,
    show_all: AllOption = False,
    state_url: StateOption = None,
    as_json: JsonOption = False,
) -> None:
    """Plan (and with --apply, make) the changes that put revalign's lead scores, audited sources and marketing
    credit into HubSpot contact and deal properties (writeback.hubspot in revalign.yaml; credentials as for
    revalign sync hubspot).

    Only properties whose value differs are changed, and only records HubSpot has. Exit 0 when the plan (or the
    apply) ran, 4 when HubSpot cannot be read or written, 5 for missing settings or properties; a record HubSpot
    refuses is listed and the others are written (exit 1).
    """
    _writeback("hubspot", project, apply=apply, show_all=show_all, state_url=state_url, as_json=as_json)


def _writeback(crm: Crm, project: Path, *, apply: bool, show_all: bool, state_url: str | None, as_json: bool) -> None:
    proj = open_project(project)
    decisions = AuditDecisions(open_store(project, state_url)).statuses()
    client = proj.crm_client(crm)  # one sign-in for the plan and the apply
    plan = proj.writeback_plan(crm, client=client, decisions=decisions)
    report = proj.writeback_apply(plan, client=client) if apply and not plan.empty else None
    if as_json:
        print_json({"plan": plan.to_dict(), "applied": report.to_dict() if report is not None else None})
    else:
        _show(plan, CRM_NAMES[crm], shown=None if show_all else SHOWN)
        if apply:
            _show_applied(report, CRM_NAMES[crm])
        elif not plan.empty:
            console.print("Dry run: nothing was written. Run again with --apply to write these changes.")
    if report is not None and report.failures:
        raise typer.Exit(1)


def _show(plan: WritebackPlan, name: str, *, shown: int | None) -> None:
    frame = plan.to_frame()
    kept = ", ".join(f"{name} {format_value(n, 'count')}" for name, n in plan.unchanged.items())
    elsewhere = sum(plan.not_in_crm.values())
    console.print(f"Already in {name}: {kept}.", highlight=False)
    if elsewhere:
        console.print(f"Not {name} records (never written): {format_value(elsewhere, 'count')} values.")
    if frame.empty:
        console.print(f"Nothing to change: {name} holds every value.")
        return
    rows = frame if shown is None else frame.head(shown)
    print_table(_readable(rows), f"{format_value(len(frame), 'count')} changes to {name}")
    if len(rows) < len(frame):
        console.print(f"[dim]… and {format_value(len(frame) - len(rows), 'count')} more (--all or --json).[/]")


def _readable(rows: pd.DataFrame) -> pd.DataFrame:
    """Old and new values as text in their value's unit (a percentage reads 45.5%, a score 55)."""
    units = rows["value_name"].map(UNITS)
    return rows.assign(
        old=[format_value(v, u) for v, u in zip(rows["old"], units, strict=True)],
        new=[format_value(v, u) for v, u in zip(rows["new"], units, strict=True)],
    )[["sobject", "record_id", "field", "old", "new"]]


def _show_applied(report: ApplyReport | None, name: str) -> None:
    if report is None:
        console.print("Nothing sent.")
        return
    console.print(
        f"Written: {format_value(report.records_written, 'count')} records in "
        f"{format_value(report.requests, 'count')} requests."
    )
    if report.failures:
        failed = pd.DataFrame(
            [{"sobject": f.sobject, "record_id": f.record_id, "fields": ", ".join(f.fields), "message": f.message}
             for f in report.failures]
        )  # fmt: skip
        print_table(failed, f"{format_value(len(failed), 'count')} records refused by {name}")
