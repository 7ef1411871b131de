"""``revalign agreement versions|propose|approve|mqls``: the versions the marketing and sales leaders sign, and
the MQLs the signed definition counts.

An agreement is YAML in the project (``agreements/*.yaml``, one file per version; docs/agreements.md).
``propose`` puts a version up for signature by the departments of its ``signatories``; each of them
``approve``\\ s it (here with their login's password, or with the button on the /agreements page); only then do
the SLA numbers from its ``effective_from`` on count it. ``versions`` lists every version with its status, who
signed and when, and whether the numbers count it. ``mqls`` counts MQLs under the agreed scoring model and
threshold (:mod:`revalign.analytics.mqls`) beside the CRM's own MQLs. The sign-off is the app state's generic approvals
(:mod:`revalign.interfaces.server.state.approvals`), the same as scoring versions'.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from revalign.analytics.mqls import STATUSES
from revalign.definitions.agreements.loader import agreement_files, example_agreement_text
from revalign.definitions.agreements.spec import AgreementSpec
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, display_context, emit, err_console, print_json
from revalign.interfaces.cli.sla import counted
from revalign.interfaces.cli.usage import usage_error
from revalign.interfaces.cli.users import open_store
from revalign.project import Project, open_project

if TYPE_CHECKING:
    from revalign.interfaces.server.state.approvals import Approvals

agreement_app = typer.Typer(
    help="The marketing–sales agreement's versions: propose one, sign it, see who signed.", no_args_is_help=True
)
app.add_typer(agreement_app, name="agreement")

ProjectOpt = Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
StateOpt = Annotated[str | None, typer.Option(help="App state database URL (default: SQLite in the project).")]


def _approvals(project: Path, state_url: str | None) -> Approvals:
    # imported here, as in `revalign users` and `revalign score`: the server's state store (SQLAlchemy,
    # Alembic) takes a while to import and only these commands need it
    from revalign.interfaces.server.state.approvals import Approvals

    return Approvals(open_store(project, state_url))


def _version(proj: Project, name: str | None, version: int | None) -> AgreementSpec:
    """Version ``version`` (default: the newest) of agreement ``name`` (default: the project's only one)."""
    history = proj.agreements().history(name)
    if version is None:
        return history[-1]
    found = [v for v in history if v.version == version]
    if not found:
        usage_error(
            f"{history[0].agreement} has no version {version}; it has {', '.join(str(v.version) for v in history)}."
        )
    return found[0]


@agreement_app.command("versions")
def versions(project: ProjectOpt = Path("."), state_url: StateOpt = None, as_json: JsonOpt = False) -> None:
    """Every agreement version, its sign-off status, who signed and when, and whether the numbers count it."""
    from revalign.interfaces.server.state.agreement_signoff import version_states  # the state store: see above

    book = open_project(project).agreements()
    rows = []
    for state in version_states(book, _approvals(project, state_url)):
        rec = state.record
        rows.append(
            {
                "agreement": state.spec.agreement,
                "version": state.spec.version,
                "effective_from": state.spec.effective_from.isoformat(),
                "status": state.status,
                "counted": state.counts,
                "approval_id": rec.id if rec is not None else None,
                "signed": state.signed,
                "missing": ", ".join(rec.missing) if rec is not None and state.status == "proposed" else "",
            }
        )
    emit(pd.DataFrame(rows), as_json=as_json, title="Agreement versions")


@agreement_app.command("propose")
def propose(
    agreement: Annotated[str | None, typer.Option(help="Agreement name (default: the project's only one).")] = None,
    version: Annotated[int | None, typer.Option(help="Version to propose (default: the newest).")] = None,
    by: Annotated[str, typer.Option(help="Who proposes it (a name or login).")] = "revops",
    note: Annotated[str, typer.Option(help="Why this version (shown to the signatories).")] = "",
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a version up for signature by its signatories' departments (marketing and sales at least)."""
    from revalign.interfaces.server.state.agreement_signoff import propose_version  # the state store: see above

    chosen = _version(open_project(project), agreement, version)
    rec = propose_version(_approvals(project, state_url), chosen, by=by, note=note)
    if as_json:
        print_json(rec.to_dict())
        return
    waiting = ", ".join(rec.missing) or "—"
    console.print(
        f"Proposed {chosen.agreement} v{chosen.version} (approval {rec.id}, status {rec.status}); waiting for: "
        f"{waiting}.",
        highlight=False,
    )


@agreement_app.command("approve")
def approve(
    approval_id: Annotated[int, typer.Argument(help="Approval id (see `revalign agreement versions`).")],
    user: Annotated[str, typer.Option(help="Your login (a marketing, sales, RevOps or CS leader).")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)] = "",
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a proposed version for your department; it counts once every required department signed."""
    store = open_store(project, state_url)
    who = store.authenticate(user, password)
    if who is None:
        usage_error(f"wrong user name or password for {user!r}.")
    approvals = _approvals(project, state_url)
    rec = approvals.get(approval_id)
    if rec.subject_kind != "agreement":
        usage_error(f"approval {approval_id} is a {rec.subject_kind} version: `revalign score approve` signs it.")
    current = _version(open_project(project), rec.name, int(rec.version))
    rec = approvals.sign(approval_id, who, current.content_hash())
    if as_json:
        print_json(rec.to_dict())
        return
    state = (
        "signed by every signatory: it counts" if rec.status == "approved" else f"waiting for {', '.join(rec.missing)}"
    )
    console.print(f"{who.username} signed {rec.name} v{rec.version}: {state}.", highlight=False)


@agreement_app.command("mqls")
def mqls(
    grain: Annotated[str, typer.Option(help="day, week, month, quarter or year of the MQL time.")] = "month",
    start: Annotated[str | None, typer.Option(help="MQLs on or after this day, e.g. 2025-01-01.")] = None,
    end: Annotated[str | None, typer.Option(help="MQLs before this day (exclusive).")] = None,
    leads: Annotated[
        str | None, typer.Option(help="List the leads of one group instead: both, agreed_only or crm_only.")
    ] = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """MQLs under the agreement (the agreed scoring model, version and threshold in force) beside the CRM's own
    MQLs: per period, or the leads of one group (agreed but not MQL'd, MQL'd but below the threshold)."""
    if leads is not None and leads not in STATUSES:
        usage_error(f"--leads must be one of {', '.join(STATUSES)}. Got {leads!r}.")
    proj = open_project(project)
    try:
        signed = counted(proj, state_url)
        if leads is None:
            frame = proj.agreed_mql_counts(grain=grain, start=start, end=end, approved=signed)
            title = f"MQLs under the agreement vs the CRM, per {grain}"
        else:
            frame = proj.mql_comparison(start=start, end=end, approved=signed)
            frame = frame[frame["status"] == leads].reset_index(drop=True)
            title = f"Leads {leads.replace('_', ' ')} ({len(frame)})"
    finally:
        proj.close()
    if leads is None and not frame.empty and frame["agreed_mqls"].sum() == 0:
        err_console.print(
            "[yellow]No lead reached the agreed threshold:[/] is the agreed scoring model's version applied? "
            "(`revalign score apply` writes the scores table once the model is approved)",
            highlight=False,
        )
    emit(frame, as_json=as_json, title=title, context=display_context(proj))


def count_signed(proj: Project, state_url: str | None = None) -> None:
    """Make ``proj`` count only the agreement versions signed in the app state (``revalign scorecard``: the
    agreement's targets), as the server and ``revalign sla`` do; a project without ``agreements/`` skips the
    state store (the shipped example sets no targets)."""
    if agreement_files(proj.folder):
        proj.use_signoff(counted(proj, state_url))


DEFAULT_MQL_MODEL = "default_lead_score"
"""The scoring model the shipped example agreement names; the demo names its own scoring model instead."""
DEMO_SIGNERS = {"customer_success": "cs"}
"""Demo login of a signing department whose login is not named after it (see ``revalign demo``'s logins)."""
DEMO_V2_NOTE = "Stricter hand-off: decide on every MQL within 1 business day; an MQL needs 70 points."


def _replaced(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        if old not in text:
            raise ValueError(f"the example agreement no longer contains {old!r}: update the demo's version 2")
        text = text.replace(old, new)
    return text


def write_demo_agreement(folder: Path, model: str, model_version: int, next_quarter: dt.date) -> str:
    """The demo's agreement files: version 1 (the shipped example, its MQL the demo's scoring model) and a version
    2 from ``next_quarter`` that decides on MQLs within 1 business day and raises the MQL threshold to 70 (kept
    when ``agreements/`` exists, so edits survive a re-run)."""
    target = folder / "agreements"
    if target.exists():
        return "Kept your agreements/ (delete it to write the demo's agreement again)"
    mql = (
        f"scoring_model: {DEFAULT_MQL_MODEL}\n  model_version: 1",
        f"scoring_model: {model}\n  model_version: {model_version}",
    )
    v1 = _replaced(example_agreement_text(), mql)
    v2 = _replaced(
        v1,
        ("version: 1\neffective_from: 2024-01-01", f"version: 2\neffective_from: {next_quarter.isoformat()}"),
        ("  threshold: 60", "  threshold: 70"),
        ("    within: 2 business days", "    within: 1 business day"),
    )
    target.mkdir(parents=True)
    (target / "marketing_sales_v1.yaml").write_text(v1, encoding="utf-8")
    (target / "marketing_sales_v2.yaml").write_text(v2, encoding="utf-8")
    return f"Agreement marketing_sales v1 and a proposed v2 from {next_quarter} in agreements/"


def sign_demo_agreement(project: Project, state_url: str | None = None) -> str:
    """Version 1 signed by the demo's marketing, sales and RevOps logins; the newest version proposed and left
    waiting for them, so /agreements shows a pending version and what it changes."""
    from revalign.interfaces.server.state.agreement_signoff import propose_version  # the state store: see above
    from revalign.interfaces.server.state.approvals import Approvals

    store = open_store(project.folder, state_url)
    approvals = Approvals(store)
    history = project.agreements().history()
    first, newest = history[0], history[-1]
    rec = propose_version(approvals, first, by="revops", note="The agreement both teams work under today.")
    for department in rec.missing if rec.status == "proposed" else ():
        login = store.get_user(DEMO_SIGNERS.get(department, department))
        rec = approvals.sign(rec.id, login, first.content_hash())
    if newest.key == first.key:
        return f"Agreement {first.agreement} v{first.version}: {rec.status}"
    pending = propose_version(approvals, newest, by="revops", note=DEMO_V2_NOTE)
    return (
        f"Agreement {first.agreement} v{first.version} signed; v{newest.version} (from {newest.effective_from}) "
        f"{pending.status}, waiting for {', '.join(pending.missing) or 'nobody'} on /agreements"
    )
