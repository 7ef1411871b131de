"""``revalign forecast`` and ``revalign waterfall``: where the quarter lands, its backtest, and how the pipeline
moved week by week (docs/forecast.md).

``revalign forecast`` prints the landing of the quarter of the ledger's last day (``--as-of`` another day,
``--by team``); ``revalign forecast --backtest`` the MAPE per week of quarter of the landing, the naive run-rate
and the reps' calls over past quarters. ``revalign waterfall --by channel`` prints the weekly movements of the
open pipeline. Numbers come from the library through the project, formatted by :mod:`revalign.display`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from revalign.analytics.forecast.backtest import UNITS as BACKTEST_UNITS
from revalign.analytics.forecast.landing import UNITS as LANDING_UNITS
from revalign.analytics.forecast.rates import stage_summary
from revalign.analytics.waterfall import UNITS as WATERFALL_UNITS
from revalign.display.tables import DisplayContext
from revalign.interfaces.cli.application import app
from revalign.interfaces.cli.render import console, display_context, err_console, print_json, print_table
from revalign.project import open_project

ProjectOpt = Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ByOpt = Annotated[list[str] | None, typer.Option(help="Split by team, segment, channel or owner (repeatable).")]


def formatted(frame: pd.DataFrame, units: Mapping[str, str], ctx: DisplayContext) -> list[dict[str, Any]]:
    """Rows with every column of a known unit formatted by the display layer (others as they are)."""
    rows = frame.to_dict(orient="records")
    return [{c: ctx.format(v, units[c]) if c in units else v for c, v in r.items()} for r in rows]


@app.command()
def forecast(
    as_of: Annotated[
        str | None, typer.Option(help="Forecast as known at the end of this day (default: the ledger's last day).")
    ] = None,
    by: ByOpt = None,
    backtest: Annotated[bool, typer.Option("--backtest", help="Backtest over past quarters instead.")] = False,
    quarters: Annotated[
        list[str] | None, typer.Option(help="Quarters to backtest (repeatable; default: the four before --as-of).")
    ] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Quarter landing: won so far + open pipeline weighted by past quarters' close rates + run-rate to come."""
    proj = open_project(project)
    ctx = display_context(proj)
    try:
        if backtest:
            with Progress(TextColumn("backtest"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                          TimeElapsedColumn(), console=err_console, transient=True) as bar:  # fmt: skip
                task = bar.add_task("backtest", total=None)
                result = proj.forecast_backtest(
                    quarters, as_of=as_of, by=by or (), progress=lambda d, t: bar.update(task, completed=d, total=t)
                )
            if as_json:
                print_json(result.to_dict())
                return
            units = {**BACKTEST_UNITS, **dict.fromkeys(("forecast", "naive", "reps"), "percent")}
            print_table(formatted(result.mape, units, ctx), title="Forecast backtest: MAPE by week of quarter")
            overall = ", ".join(f"{m} {ctx.format(v, 'percent')}" for m, v in result.overall.items())
            console.print(f"Over every point: {overall}")
            return
        land = proj.quarter_landing(as_of, by=by or ())
        if as_json:
            print_json(land.to_dict())
            return
        title = f"{land.quarter} landing as of {land.as_of:%Y-%m-%d} ({ctx.format(land.elapsed_share, 'percent')} "
        print_table(formatted(land.frame, LANDING_UNITS, ctx), title=title + "of the quarter elapsed)")
        rates = stage_summary(land.rates)
        print_table(formatted(rates, LANDING_UNITS, ctx), title="Rates learned from the same day of past quarters")
    finally:
        proj.close()


@app.command()
def waterfall(
    start: Annotated[
        str | None, typer.Option(help="First day, e.g. 2025-04-01 (default: the quarter of the ledger's last day).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last day (exclusive; default: the end of that quarter).")] = None,
    by: ByOpt = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Pipeline waterfall: each week's opening, created, amount changed, won, lost and closing open pipeline."""
    proj = open_project(project)
    ctx = display_context(proj)
    try:
        result = proj.pipeline_waterfall(start, end, by=by or ())
        if as_json:
            print_json(result.to_dict())
            return
        title = f"Pipeline waterfall, weeks from {result.start:%Y-%m-%d}"
        title += " (closing = opening + created + amount changed − won − lost)"
        print_table(formatted(result.frame, WATERFALL_UNITS, ctx), title=title)
    finally:
        proj.close()
