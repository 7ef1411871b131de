"""``revalign funnel``: a funnel's step table (cohort or period), plus its hand-off, stage and pipeline views.

``revalign funnel lead_to_customer --by channel --grain quarter``; ``revalign funnel --list``;
``revalign funnel handoff --by owner_id``; ``revalign funnel stages``; ``revalign funnel pipeline``.
Every table takes ``--json``. Numbers come from the library (``Project.funnel`` and friends).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, cast

import typer

from revalign.analytics.pipeline import pipeline_velocity
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import display_context, emit, print_json, print_table
from revalign.project import open_project

VIEWS = ("handoff", "stages", "pipeline", "velocity")


@app.command()
def funnel(
    name: Annotated[
        str,
        typer.Argument(help="Funnel name (see --list), or a view: handoff, stages, pipeline, velocity."),
    ] = "lead_to_customer",
    mode: Annotated[str, typer.Option(help="cohort (entities that entered in a period) or period.")] = "cohort",
    grain: Annotated[str, typer.Option(help="day, week, month, quarter, year or all.")] = "month",
    by: Annotated[list[str] | None, typer.Option(help="Segment by a dimension (repeatable): --by channel.")] = None,
    start: Annotated[str | None, typer.Option(help="First day (inclusive), e.g. 2025-01-01.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (exclusive).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the funnels and exit.")] = False,
    project: Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Funnel step table: entered, converted, dropped, step and first-step rates, days between steps."""
    proj = open_project(project)
    by_t = tuple(by or ())
    g = None if grain == "all" else grain
    ctx = display_context(proj, g)
    try:
        if list_:
            rows = [
                {"funnel": n, "entity": s.entity, "order": s.order, "steps": " → ".join(s.step_names)}
                for n, s in proj.funnels().items()
            ]
            print_json(rows) if as_json else print_table(rows, title="Funnels")
            return
        if name == "handoff":
            emit(
                proj.handoff(by=by_t or ("channel",), grain=g, start=start, end=end),
                as_json=as_json,
                title="MQL hand-off",
            )
        elif name == "stages":
            emit(
                proj.stage_velocity(by=by_t, start=start, end=end), as_json=as_json, title="Time in stage", context=ctx
            )
        elif name == "pipeline":
            emit(proj.pipeline(grain=g, by=by_t, start=start, end=end), as_json=as_json, title="Pipeline", context=ctx)
        elif name == "velocity":
            velocity = pipeline_velocity(proj.tables, by=by_t, start=start, end=end)
            emit(velocity, as_json=as_json, title="Pipeline velocity", context=ctx)
        else:
            chosen = cast(Literal["cohort", "period"], mode)  # Typer gives a str; the funnel rejects other modes
            result = proj.funnel(name, mode=chosen, grain=g, by=by_t, start=start, end=end)
            if as_json:
                print_json(result.to_dict())
            else:
                print_table(result.steps, title=f"{name} ({mode}, as of {result.as_of:%Y-%m-%d})", context=ctx)
    finally:
        proj.close()
