"""``revalign demo``: a simulated company, its KPIs, the north-star scorecard, and the dashboard, in one command.

Steps: simulate a small company into a demo project folder (through the canonical Parquet mapping, so the demo
exercises the same path real data takes), plan the last simulated year's targets from the year before
(``targets.csv``, see :data:`DEMO_PLAN`), print the north-star scorecard and the alignment check, create one demo
login per role (a rep bound to a simulated salesperson), and serve the dashboard. ``--no-serve`` stops before
serving (scripts, tests).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from revalign.analytics.sla import data_as_of
from revalign.errors import RevalignError
from revalign.interfaces.cli.agreement import sign_demo_agreement, write_demo_agreement
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, display_context, print_table
from revalign.interfaces.cli.score import install_demo_scoring
from revalign.interfaces.cli.serve import run_server
from revalign.model.calendar import add_periods, parse_period, period_label, period_start
from revalign.project import Project, init_project, open_project
from revalign.sources import ingest

DEMO_PASSWORD_SUFFIX = "-demo-2026"
DEMO_ROLES = ("admin", "leadership", "finance", "marketing", "sales", "revops", "customer_success", "rep")
DEMO_SCORECARDS: dict[str, tuple[str, ...]] = {
    "marketing": ("new_leads", "mqls", "cost_per_mql"),
    "sales": ("deals_won", "win_rate", "average_deal_size", "pipeline_created", "sales_cycle_days_median"),
    "revops": ("mql_acceptance_rate", "sla_followup_compliance", "speed_to_lead_hours"),
    "customer_success": ("net_revenue_retention", "logo_churn_rate", "expansion_mrr", "onboarding_rate"),
}
"""What each department of the simulated company is measured on: its own volume and efficiency KPIs, as in most
companies before they align (marketing on leads and MQLs, not on the revenue they become)."""

DEMO_PLAN: dict[str, Any] = {
    "growth": 0.20,
    "points": 0.02,
    "overrides": {"new_revenue": 1.0},
    "kpis": ["new_revenue", *(k for kpis in DEMO_SCORECARDS.values() for k in kpis)],
}
"""The simulated company's plan for its last year: every department plans +20 % on last year's same quarter
(+2 points on rates) for the KPIs it is measured on (:data:`DEMO_SCORECARDS`), while the board asks to double new
revenue. The departments' plans do not add up to the board's, the misalignment revalign exists to flag: marketing
on target (its bar for an MQL was lowered in 2025, see :data:`revalign.simulate.DEMO_CONFIG`), the north star off
it."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    owner_id: str | None = None


def simulate_into(project: Project, *, scale: str, seed: int) -> str:
    """Simulate the company and ingest it into ``project`` through the canonical mapping; says how it was loaded."""
    # imported here: the simulator (scipy) takes a second to import, and only this command
    # needs it (not every `revalign` run)
    from revalign.simulate import DEMO_CONFIG, demo_scale, simulate

    company = simulate(scale=demo_scale(scale), seed=seed, config=DEMO_CONFIG)
    with tempfile.TemporaryDirectory(prefix="revalign-demo-") as tmp:
        company.to_parquet(Path(tmp))
        ingest(project, Path(tmp), mapping="canonical")
    return "ingested through the canonical mapping"


def pick_rep(project: Project) -> str | None:
    """A simulated salesperson (an AE who owns opportunities) for the demo rep login."""
    if not project.engine.has_table("opportunities"):
        return None
    opps = project.table("opportunities")
    owners = project.engine.execute(opps.select("owner_id").filter(opps.owner_id.notnull()).distinct())
    ids = sorted(owners["owner_id"].astype(str))
    return ids[0] if ids else None


def pick_leader(project: Project) -> str | None:
    """The top of the simulated company's management tree (a user with no manager), for the leadership login:
    pay data is visible to a person's managers up the tree, so the CEO's login sees everyone's."""
    if not project.engine.has_table("users"):
        return None
    users = project.table("users")
    top = project.engine.execute(users.filter(users.manager_id.isnull()).select("user_id"))
    ids = sorted(top["user_id"].astype(str))
    return ids[0] if ids else None


def demo_logins(owner_id: str | None, leader_id: str | None = None) -> list[DemoLogin]:
    """One login per role; the rep is bound to a salesperson and leadership to the top of the tree."""
    logins = []
    bound = {"rep": owner_id, "leadership": leader_id}
    for role in DEMO_ROLES:
        if role == "rep" and owner_id is None:
            continue
        name = "cs" if role == "customer_success" else role
        logins.append(DemoLogin(name, name + DEMO_PASSWORD_SUFFIX, role, bound.get(role)))
    return logins


def create_logins(project: Project, logins: list[DemoLogin], state_url: str | None = None) -> None:
    # imported here: the server (FastAPI, SQLAlchemy) takes seconds to import, and only this
    # command needs it (not every `revalign` run)
    from revalign.interfaces.server.state import StateStore, default_state_url

    store = StateStore(state_url or project.settings.state_url or default_state_url(project.folder))
    store.migrate()
    for login in logins:
        store.add_user(login.username, login.password, login.role, owner_id=login.owner_id, replace=True)
    store.close()


def next_quarter(project: Project) -> dt.date:
    """The first day of the quarter after the simulated data's latest event: when the demo's version 2 starts."""
    day = data_as_of(project.tables).date()
    return add_periods(period_start(day, "quarter"), "quarter", 1)


def plan_demo_targets(project: Project, *, file: str = "targets.csv") -> str:
    """Plan the latest simulated year's targets from the year before into ``file`` (kept if it already exists, so
    edits survive a re-run); returns what was done."""
    path = project.folder / file
    if path.exists():
        return f"Kept your {file} (delete it to plan the demo targets again)"
    try:
        fs = project.settings.fiscal_year_start_month
        last = parse_period(project.latest_period(project.catalog.north_star, "quarter"), fs)
        year = period_label(last.start, "year", fs)
        agreed = {t.kpi for t in project.targets().standing}  # the agreement's standing targets are not replanned
        kpis = [k for k in DEMO_PLAN["kpis"] if k not in agreed]
        plan = project.plan(year, grain="quarter", **{**DEMO_PLAN, "kpis": kpis})
    except RevalignError as exc:
        return f"Targets not planned: {exc}"
    plan.write(path)
    done = (
        f"Planned {len(plan.targets)} quarterly targets for {plan.year} from the year before into {file} "
        f"(+{DEMO_PLAN['growth']:.0%} per department, new revenue ×{1 + DEMO_PLAN['overrides']['new_revenue']:g})"
    )
    off = plan.consistency[~plan.consistency["consistent"].astype(bool)] if plan.consistency is not None else None
    if off is not None and not off.empty:
        last = off.iloc[-1]
        done += (
            f".\nThe plans do not add up: in {last.period} the drivers' targets imply {last.kpi} "
            f"{last.implied_growth:+.0%}, its own target asks {last.target_growth:+.0%} ({last.drivers})"
        )
    return done


def print_north_star(project: Project) -> None:
    """The joint scorecard's north-star rows (and the departments' roll-up) in the terminal."""
    try:
        card = project.scorecard()
    except RevalignError as exc:
        console.print(f"[yellow]North-star scorecard not available yet:[/] {exc}")
        return
    frame = card.to_pandas()
    cols = [
        c for c in ("label", "period", "actual", "target", "status", "previous", "pct_change", "movement") if c in frame
    ]
    star = frame[frame["kpi"] == card.north_star][cols] if card.north_star else frame.head(0)
    print_table(
        star,
        title=f"North star ({card.period})",
        context=display_context(project),
        row_units=frame.loc[star.index, "unit"],
    )
    status = card.department_status()
    print_table([{"department": d, "status": s} for d, s in status.items()], title="Departments")
    try:
        alignment = project.alignment(period=card.period, card=card)
    except RevalignError as exc:
        console.print(f"[yellow]Alignment check not available:[/] {exc}")
        return
    if alignment.ok:
        console.print("[green]Aligned:[/] no department wins while the north star loses.")
        return
    console.print(f"[bold red]{len(alignment.findings)} alignment finding(s)[/] (revalign scorecard lists them all):")
    for f in alignment.findings[:3]:
        console.print(f"  {f.severity.upper()} {f.kind}: {f.message}", highlight=False)


def print_people(project: Project) -> None:
    """Who is behind the numbers: the reps who make most lead-source overwrites, and who breaches the follow-up
    SLA most (the same lines as the overview page), each pointing at the command that lists the rows."""
    try:
        audit = project.audit_concentration("lead_source_overwrite")
        sla = project.sla_concentration()
    except RevalignError as exc:
        console.print(f"[yellow]Audit and SLA lines not available:[/] {exc}")
        return
    console.print(f"[bold]Credit audit:[/] {audit.sentence(project.settings.currency)}", highlight=False)
    console.print("  (revalign audit --kind lead_source_overwrite lists them; the Audit page has the evidence)")
    console.print(f"[bold]SLAs:[/] {sla.sentence()}", highlight=False)
    console.print("  (revalign sla breaches lists them; the SLAs page has compliance by team)")


@app.command()
def demo(
    folder: Annotated[Path, typer.Option(help="Demo project folder (created, or reused and refreshed).")] = Path(
        "revalign-demo"
    ),
    scale: Annotated[str, typer.Option(help="Simulator scale: s (seconds), m, l.")] = "s",
    seed: Annotated[int, typer.Option(help="Random seed of the simulated company.")] = 0,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the dashboard at the end.")] = True,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Simulate a small company, compute its KPIs, print the north star, and serve the dashboard."""
    folder = folder.resolve()
    if not (folder / "revalign.yaml").exists():
        init_project(folder, name="revalign demo")
    project = open_project(folder)
    with console.status(f"Simulating a company (scale {scale}, seed {seed})…"):
        how = simulate_into(project, scale=scale, seed=seed)
    console.print(f"Simulated company {how} into {folder}")
    console.print(write_demo_agreement(folder, "lead_score", 1, next_quarter(project)), highlight=False)
    console.print(plan_demo_targets(project), highlight=False)
    print_north_star(project)
    print_people(project)
    logins = demo_logins(pick_rep(project), pick_leader(project))
    create_logins(project, logins)
    console.print(sign_demo_agreement(project), highlight=False)
    console.print(install_demo_scoring(project), highlight=False)
    print_table(
        [{"username": x.username, "password": x.password, "role": x.role, "person": x.owner_id or "—"} for x in logins],
        title="Demo logins",
    )
    if serve:
        project.close()
        run_server(open_project(folder), host=host, port=port)
