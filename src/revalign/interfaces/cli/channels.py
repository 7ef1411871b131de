"""``revalign channels``: spend → leads → MQLs → pipeline → new revenue per channel or campaign, with CAC and ROMI.

Deals are new-business deals (revenue is the catalog's ``new_revenue``); the table view adds won revenue by deal
type, so renewals and expansions are visible as their own lines and never as a channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, cast

import typer

from revalign.analytics.revenue import revenue_by_deal_type
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import display_context, emit
from revalign.project import open_project


@app.command()
def channels(
    by: Annotated[list[str] | None, typer.Option(help="channel (default) and/or campaign_id (repeatable).")] = None,
    attribution: Annotated[str, typer.Option(help="sourced (first touch) or influenced (any touch).")] = "sourced",
    start: Annotated[str | None, typer.Option(help="First day (inclusive), e.g. 2025-01-01.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (exclusive).")] = None,
    project: Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Channel productivity: spend, traffic, leads, cost per lead/MQL, SQLs, pipeline, wins, new revenue, CAC, ROMI."""
    mode = cast(Literal["sourced", "influenced"], attribution)  # Typer gives a str; the analytic rejects others
    proj = open_project(project)
    try:
        frame = proj.channels(by=tuple(by or ("channel",)), attribution=mode, start=start, end=end)
        deal_types = revenue_by_deal_type(proj.tables, start=start, end=end)
    finally:
        proj.close()
    context = display_context(proj)
    emit(frame, as_json=as_json, title=f"Channel productivity ({attribution}, new business)", context=context)
    if not as_json:  # the JSON stays one table for scripts
        emit(
            deal_types,
            as_json=False,
            title="Won revenue by deal type (renewals and expansions are not channels)",
            context=context,
        )
