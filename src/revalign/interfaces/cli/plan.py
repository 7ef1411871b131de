"""``revalign plan``: the reverse funnel for a revenue target (docs/planner.md).

From ``--target`` revenue in ``--period`` to the deals won, opportunities, SQLs, MQLs, leads and spend per channel it
takes at today's rates, when each is due, and whether the reps' quotas carry it. ``--save`` writes the plan as the
project's targets (each stage's KPI: ``new_revenue``, ``deals_won``, ``opportunities_created``, ``sqls``, ``mqls``,
``new_leads``, and ``new_leads`` per channel). Exit code 1 when the quotas do not carry the target.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from revalign.analytics.planner import DEFAULT_HISTORY_MONTHS
from revalign.interfaces.cli.application import EXIT_FINDINGS, app
from revalign.interfaces.cli.render import console, display_context, err_console, print_json, print_table
from revalign.interfaces.cli.usage import values_checked
from revalign.project import open_project


@app.command("plan")
def plan(
    target: Annotated[float, typer.Option(help="Revenue target (new revenue) for the period, e.g. 5000000.")],
    period: Annotated[str, typer.Option(help="The period of the target: 2026-Q3, 2026-07 or 2026.")],
    history_months: Annotated[
        int, typer.Option(help="Months of history the live rates are measured over.")
    ] = DEFAULT_HISTORY_MONTHS,
    history_end: Annotated[
        str | None,
        typer.Option(help="First day of the month the history ends before (default: the latest month of data)."),
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Save the plan as the project's targets.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Target file to save into (default: the project's target file, targets.csv).")
    ] = None,
    project: Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Reverse funnel: the deals, opportunities, SQLs, MQLs, leads and spend a revenue target takes.

    Exits 1 when the reps' quotas do not carry the target."""
    proj = open_project(project)
    written = None
    try:
        with values_checked():
            end = dt.date.fromisoformat(history_end) if history_end else None
            result = proj.revenue_plan(target, period, history_end=end, history_months=history_months)
        if save:
            written = proj.save_plan_targets(result, out)
    finally:
        proj.close()
    if as_json:
        print_json({**result.to_dict(), "saved": None if written is None else str(written)})
    else:
        context = display_context(proj)
        rates = result.rates
        title = f"Plan for {result.target:,.0f} new revenue in {result.period.label}"
        shown = result.stages[["stage", "kpi", "value", "rate", "rate_meaning", "lag_months", "due"]]
        print_table(shown, title=title, context=context, row_units=list(result.stages["unit"]))
        print_table(result.channels, title=f"Leads and spend per channel (total {result.total_spend:,.2f})",
                    context=context)  # fmt: skip
        console.print(f"Rates from {rates.start} to {rates.end} (exclusive).", highlight=False)
        cap = result.capacity
        if cap is not None and cap.reps:
            console.print(
                f"Capacity: {cap.reps} reps carry {cap.quota:,.0f} of quota ({cap.basis}), coverage "
                f"{cap.coverage:.0%}; {cap.reps_needed} reps at the average quota would carry the target.",
                highlight=False,
            )
        for notice in result.notices:
            err_console.print(f"[yellow]{notice}[/]", highlight=False)
        if written is not None:
            console.print(f"Saved the plan's targets in {written}", highlight=False)
    if result.capacity is not None and not result.capacity.ok:
        raise typer.Exit(EXIT_FINDINGS)
