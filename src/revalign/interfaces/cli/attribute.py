"""``revalign attribute``: every attribution model side by side, with spend, ROMI and CAC.

``revalign attribute --conversion won --lookback 90 --by channel``; ``--model markov --model linear`` to pick
models; ``--use budget`` shows the model of record for a use; ``--freeze 2025-Q1 --start 2025-01-01 --end
2025-04-01`` closes a period. Numbers come from ``revalign.analytics.attribution``; this module only shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, display_context, emit
from revalign.project import open_project


@app.command()
def attribute(
    model: Annotated[
        list[str] | None,
        typer.Option(help="Model (repeatable): all, first_touch, last_touch, linear, w_shaped, markov, shapley, …"),
    ] = None,
    conversion: Annotated[str, typer.Option(help="Conversion event: won, opportunity, mql or lead.")] = "won",
    lookback: Annotated[int, typer.Option(help="Lookback window in days before each conversion.")] = 90,
    by: Annotated[str, typer.Option(help="Credit per channel or per campaign.")] = "channel",
    start: Annotated[str | None, typer.Option(help="First day of conversions (inclusive), e.g. 2025-01-01.")] = None,
    end: Annotated[str | None, typer.Option(help="Last day of conversions (exclusive).")] = None,
    use: Annotated[
        str | None, typer.Option(help="Show only the model of record for a use: budget, compensation or board.")
    ] = None,
    freeze: Annotated[
        str | None, typer.Option(help="Freeze this closed period's credit under a label (needs --start and --end).")
    ] = None,
    project: Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Credited conversions and revenue per channel (or campaign) under every model, with spend, ROMI and CAC."""
    proj = open_project(project)
    try:
        models = model
        if use is not None:
            models = [proj.attribution_model_of_record(use)]
        if freeze is not None:
            if start is None or end is None:
                raise typer.BadParameter("--freeze needs --start and --end (the closed period).")
            proj.freeze_attribution(
                freeze, start=start, end=end, conversion=conversion, lookback_days=lookback, by=by, models=models
            )
            if not as_json:
                console.print(f"Froze attribution for {freeze} ({start} to {end}).")
        frame = proj.attribution(
            conversion=conversion, lookback_days=lookback, by=by, models=models, start=start, end=end
        )
        title = f"Attribution of {conversion} conversions ({lookback}-day lookback, by {by})"
        emit(frame, as_json=as_json, title=title, context=display_context(proj))
    finally:
        proj.close()
