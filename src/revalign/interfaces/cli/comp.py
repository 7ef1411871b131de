"""``revalign comp payout|check|compare``: what a comp plan pays, with line-item statements, what it pays for gaming,
and how plans (or a draft) compare over past periods (docs/incentives.md).

Pay is private: ``--user LOGIN`` shows what that app login may see (its own statements and its reports'; everyone's
for finance, RevOps and admin), the same rule as the server. The operator running the CLI has the project's files,
so without ``--user`` every statement is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from revalign.analytics.privacy import Viewer
from revalign.interfaces.cli.application import EXIT_FINDINGS, app
from revalign.interfaces.cli.render import console, display_context, print_json, print_table
from revalign.interfaces.cli.users import ProjectOpt, StateOpt, open_store
from revalign.project import open_project

comp_app = typer.Typer(
    help="Comp plans: payouts with statements (as recorded or as audited), the perverse-incentive check, and "
    "what-if comparisons of plans and drafts."
)
app.add_typer(comp_app, name="comp", no_args_is_help=True)

PlanOpt = Annotated[str | None, typer.Option("--plan", help="Plan name (default: the only plan).")]
StartOpt = Annotated[str | None, typer.Option(help="First day of the window, e.g. 2025-01-01.")]
EndOpt = Annotated[str | None, typer.Option(help="Day after the window, e.g. 2026-01-01.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _viewer(project: Path, state_url: str | None, user: str | None) -> Viewer | None:
    if user is None:
        return None
    from revalign.interfaces.server.privacy import viewer_of  # the server's store: imported only when asked

    return viewer_of(open_store(project, state_url).get_user(user))


@comp_app.command()
def payout(
    plan: PlanOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    credit: Annotated[
        Literal["recorded", "audited"], typer.Option(help="Credit as recorded, or with the audit's findings undone.")
    ] = "recorded",
    person: Annotated[str | None, typer.Option("--person", help="Show this person's statements (a user_id).")] = None,
    period: Annotated[str | None, typer.Option(help="Only this period, e.g. 2025-Q1.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Show only what this app login may see.")] = None,
    project: ProjectOpt = Path("."),
    state_url: StateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Payouts per person and period; with --person, their line-item statements."""
    viewer = _viewer(project, state_url, user)
    proj = open_project(project)
    try:
        result = proj.comp_payouts(plan, viewer=viewer, start=start, end=end, credit=credit)
        context = display_context(proj)
    finally:
        proj.close()
    totals, statements = result.totals, result.statements
    if period is not None:
        totals, statements = totals[totals["period"] == period], statements[statements["period"] == period]
    if person is not None:
        totals, statements = totals[totals["user_id"] == person], statements[statements["user_id"] == person]
    if as_json:
        print_json(
            {"plan": result.plan, "version": result.version, "hidden": result.hidden}
            | {"totals": totals.to_dict("records"), "statements": statements.to_dict("records")}
        )
        return
    if totals.empty:
        console.print("No payouts." + (f" {result.hidden} row(s) hidden for privacy." if result.hidden else ""))
        return
    print_table(totals, f"Payouts under {result.plan} v{result.version} ({credit})", context=context)
    if person is not None:
        print_table(statements, f"Statements of {person}", context=context)
    if result.hidden:
        console.print(f"{result.hidden} row(s) hidden for privacy.")


@comp_app.command()
def check(
    plan: PlanOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    top: Annotated[int, typer.Option(help="Show this many of the largest gains per action.")] = 5,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """How much more the plan pays for each gaming action, on the company's own records; exit 1 when flagged."""
    proj = open_project(project)
    try:
        result = proj.comp_check(plan, start=start, end=end)
        context = display_context(proj)
    finally:
        proj.close()
    if as_json:
        print_json(result.to_dict())
    else:
        print_table(result.actions, f"Perverse-incentive check of {result.plan}", context=context)
        print_table(result.measures, "Measures (flagged: not tied to the north star)", context=context)
        for sentence in result.gains.groupby("action", sort=False).head(top)["sentence"]:
            console.print(sentence, highlight=False)
    if result.flagged:
        raise typer.Exit(EXIT_FINDINGS)


@comp_app.command()
def compare(
    plans: Annotated[list[str] | None, typer.Argument(help="Plan names to compare (default: every plan).")] = None,
    draft: Annotated[
        list[Path] | None, typer.Option("--draft", help="A draft plan file (not yet in comp_plans/); repeatable.")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", "--start", help="First day, e.g. 2025-01-01.")] = None,
    end: Annotated[str | None, typer.Option("--to", "--end", help="Day after the window, e.g. 2026-01-01.")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Plans side by side over past periods: cost of sales, its share of new revenue, the distribution of pay, and
    the alignment of pay (north-star share; rank correlation of payout with audited contribution)."""
    proj = open_project(project)
    try:
        drafts = [proj.comp_draft(d) for d in draft or []]
        names = list(plans or ([] if drafts else sorted(proj.comp_plans())))
        result = proj.comp_compare(names, viewer=None, drafts=drafts, start=start, end=end)
        context = display_context(proj)
    finally:
        proj.close()
    if as_json:
        print_json(result.to_dict())
        return
    cost = ["plan", "people", "total_cost", "new_revenue", "cost_share", "median_payout", "p90_payout", "max_payout"]
    print_table(result.summary[cost], "Plans compared: cost of sales and its distribution", context=context)
    aligned = ["plan", "gini", "top_decile_share", "north_star_share", "paid_north_star_share", "rank_correlation"]
    print_table(result.summary[aligned], "Alignment of pay", context=context)
    wide = result.people.pivot(index=["user_id", "audited_revenue"], columns="plan", values="payout").reset_index()
    print_table(wide, "Payout per person vs audited contribution (audited_revenue)", context=context)
