"""``revalign agreement versions|propose|approve``: agreement versions the marketing and sales leaders sign.

An agreement is YAML in the project (``agreements/*.yaml``, one file per version; docs/agreements.md).
``propose`` puts a version up for signature by the departments of its ``signatories``; each of them
``approve``\\ s it (here with their login's password, or with the button on the /agreements page); only then do
the SLA numbers from its ``effective_from`` on count it. ``versions`` lists every version with its status, who
signed and when, and whether the numbers count it. The sign-off is the app state's generic approvals
(:mod:`revalign.interfaces.server.state.approvals`), the same as scoring versions'.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from revalign.definitions.agreements.spec import AgreementSpec
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, emit, print_json
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
