"""``revalign channels``: spend → leads → MQLs → pipeline → revenue per channel or campaign, with CAC and ROMI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, cast

import typer

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
    """Channel productivity: spend, traffic, leads, cost per lead/MQL, SQLs, pipeline, wins, revenue, CAC, ROMI."""
    mode = cast(Literal["sourced", "influenced"], attribution)  # Typer gives a str; the analytic rejects others
    proj = open_project(project)
    try:
        frame = proj.channels(by=tuple(by or ("channel",)), attribution=mode, start=start, end=end)
    finally:
        proj.close()
    emit(frame, as_json=as_json, title=f"Channel productivity ({attribution})", context=display_context(proj))
