"""``revalign alerts check|run|log|digest``: validate ``alerts.yaml``, evaluate it now, read the log, the digest.

``run`` is the evaluation step of ``revalign refresh`` alone (no ingest); ``digest --role R`` prints a role's
weekly digest (text, or ``--html``) and ``--send`` emails it to the role's addresses (``alerts.addresses``).

The server package (roles, the state store, FastAPI and SQLAlchemy underneath) is imported inside the commands
that need it: it takes seconds to import, and ``revalign --help`` should not pay for it (as ``revalign users``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from revalign.alerts import checked_alert_rules
from revalign.alerts.delivery import send_email
from revalign.alerts.digest import weekly_digest
from revalign.definitions.issues import errors
from revalign.errors import ConfigError, UnknownNameError
from revalign.interfaces.cli.application import EXIT_CONFIG, EXIT_FINDINGS, app
from revalign.interfaces.cli.render import console, emit, err_console, print_json
from revalign.interfaces.cli.users import open_store
from revalign.project import open_project

alerts_app = typer.Typer(help="Alert rules (alerts.yaml): check, run now, log, weekly digest.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder.")]
StateOpt = Annotated[str | None, typer.Option(help="App state database URL (default: SQLite in the project).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@alerts_app.command("check")
def check(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Validate alerts.yaml (file:line, rule); exit 5 when a rule is invalid."""
    from revalign.interfaces.server.roles import ROLES

    rules, issues = checked_alert_rules(open_project(project), ROLES)
    if as_json:
        print_json({"ok": not errors(issues), "rules": sorted(rules), "issues": [i.to_dict() for i in issues]})
    else:
        for issue in issues:
            console.print(f"  {issue}", markup=False, highlight=False, soft_wrap=True)
        console.print(f"{len(rules)} valid rule(s), {len(errors(issues))} error(s).")
    if errors(issues):
        raise typer.Exit(EXIT_CONFIG)


@alerts_app.command("run")
def run(
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    send: Annotated[bool, typer.Option("--send/--dry-run", help="Deliver (or only show what would fire).")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate every rule now and deliver what fires (each condition once); exit 1 on problems."""
    from revalign.interfaces.server.scheduler import refresh_and_record

    proj = open_project(project)
    store = open_store(project, state_url)
    try:
        report = refresh_and_record(proj, store, sources=False, send=send)
    finally:
        store.close()
        proj.close()
    alerts = report.evaluation.alerts if report.evaluation else []
    if as_json:
        print_json(report.to_dict())
    else:
        frame = pd.DataFrame(
            [
                {"outcome": a.outcome, "severity": a.firing.severity, "title": a.firing.title, "reason": a.reason}
                for a in alerts
            ],
            columns=["outcome", "severity", "title", "reason"],
        )
        emit(frame, as_json=False, title=f"Alerts ({len([a for a in alerts if a.outcome == 'sent'])} sent)")
        for problem in report.problems:
            err_console.print(f"[yellow]problem[/]: {problem}", highlight=False)
    if report.problems:
        raise typer.Exit(EXIT_FINDINGS)


@alerts_app.command("log")
def show_log(
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The latest alerts: sent, held back as duplicates or by the rate limit, failed."""
    from revalign.interfaces.server.state.alerts import AlertStore

    store = open_store(project, state_url)
    try:
        rows = AlertStore(store).log(limit=limit)
    finally:
        store.close()
    if as_json:
        print_json(rows)
        return
    columns = ["id", "at", "outcome", "severity", "rule", "subject", "period", "title"]
    emit(pd.DataFrame(rows, columns=columns), as_json=False, title="Alert log")


@alerts_app.command("digest")
def digest(
    role: Annotated[str, typer.Option("--role", "-r", help="The role whose digest to build (marketing, sales, …).")],
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML version instead of the text.")] = False,
    send: Annotated[bool, typer.Option("--send", help="Email it to the role's addresses (alerts.addresses).")] = False,
) -> None:
    """A role's weekly digest: the shared scorecard and the week's alerts; ``--send`` emails it."""
    from revalign.interfaces.server.roles import ROLES
    from revalign.interfaces.server.state.alerts import AlertStore

    if role not in ROLES:
        raise UnknownNameError("role", role, ROLES)
    proj = open_project(project)
    store = open_store(project, state_url)
    try:
        found = weekly_digest(proj, AlertStore(store), role)
    finally:
        store.close()
    if not send:
        console.print(found.html() if html else found.text(), markup=False, highlight=False, soft_wrap=True)
        return
    settings = proj.settings.alerts
    to = settings.addresses.get(role, [])
    if settings.smtp is None or not to:
        raise ConfigError(f"--send needs alerts.smtp and alerts.addresses.{role} in revalign.yaml")
    send_email(settings.smtp, found.email(sender=settings.smtp.sender, to=to))
    console.print(f"Digest for {role} sent to {', '.join(to)}.")
