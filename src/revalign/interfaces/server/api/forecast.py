"""``GET /api/v1/forecast``, ``/api/v1/forecast/backtest`` and ``/api/v1/pipeline/waterfall`` (docs/forecast.md).

JSON for the pages that show the forecast (home, CRO) and for scripts: the raw numbers, the ``units`` of their
columns (so a client formats them as :mod:`revalign.display` does: ``run_rate`` is money, not a percentage) and a
``formatted`` copy of every row. Splits are by team, segment or channel: a per-owner forecast is person-level pay
data, left to the CLI and the library. Parameters are validated (a bad date, an unknown split or quarter is a 422
with the canonical error body).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query

from revalign.analytics.forecast.backtest import UNITS as BACKTEST_UNITS
from revalign.analytics.forecast.landing import UNITS as LANDING_UNITS
from revalign.analytics.waterfall import UNITS as WATERFALL_UNITS
from revalign.display.tables import DisplayContext
from revalign.interfaces.server.deps import CurrentUser, ProjectDep
from revalign.interfaces.server.filters import KnownParameters
from revalign.interfaces.server.schemas import ERROR_RESPONSES
from revalign.jsonsafe import jsonable, records

router = APIRouter(tags=["forecast"], responses=ERROR_RESPONSES, dependencies=[KnownParameters])
Split = Literal["team", "segment", "channel"]
By = Annotated[list[Split], Query(description="Split by team, segment or channel (repeatable).")]
Quarter = Annotated[str, Query(pattern=r"^\d{4}-Q[1-4]$", description="A quarter, e.g. 2025-Q2.")]


def with_formatted(frame: pd.DataFrame, units: Mapping[str, str], ctx: DisplayContext) -> dict[str, Any]:
    """``rows`` (raw), ``formatted`` (each number in its unit, through the display layer) and ``units``."""
    rows = records(frame)
    shown = [{c: ctx.format(v, units[c]) if c in units and v is not None else v for c, v in r.items()} for r in rows]
    return {"rows": rows, "formatted": shown, "units": {c: units[c] for c in frame.columns if c in units}}


@router.get("/forecast")
def forecast(
    project: ProjectDep,
    user: CurrentUser,
    as_of: Annotated[dt.date | None, Query(description="Forecast as known at the end of this day.")] = None,
    by: By = [],  # noqa: B006 (FastAPI copies a query default; it is never mutated)
) -> dict[str, Any]:
    """The landing of the quarter of ``as_of`` (default: the ledger's last day) and the rates behind it."""
    ctx = DisplayContext.of(project.catalog, project.settings)
    land = project.quarter_landing(as_of, by=by)
    out = jsonable({k: v for k, v in land.to_dict().items() if k not in ("rows", "rates")})
    return {**out, **with_formatted(land.frame, LANDING_UNITS, ctx), "rates": records(land.rates)}


@router.get("/forecast/backtest")
def forecast_backtest(
    project: ProjectDep,
    user: CurrentUser,
    quarters: Annotated[list[Quarter] | None, Query(description="Quarters to test (default: the last four).")] = None,
    weeks: Annotated[list[int] | None, Query(description="Weeks of the quarter (1–13; default all).")] = None,
    by: By = [],  # noqa: B006 (FastAPI copies a query default; it is never mutated)
) -> dict[str, Any]:
    """MAPE by week of quarter of the landing, the naive run-rate and the reps' calls, with every point."""
    ctx = DisplayContext.of(project.catalog, project.settings)
    chosen = [w for w in (weeks or range(1, 14)) if 1 <= w <= 13] or list(range(1, 14))
    result = project.forecast_backtest(quarters, weeks=chosen, by=by)
    mape_units = {"week": "count", "forecast": "percent", "naive": "percent", "reps": "percent"}
    return {
        "mape": with_formatted(result.mape, mape_units, ctx),
        "overall": jsonable(result.overall),
        "points": with_formatted(result.points, BACKTEST_UNITS, ctx),
    }


@router.get("/pipeline/waterfall")
def waterfall(
    project: ProjectDep,
    user: CurrentUser,
    start: Annotated[dt.date | None, Query(description="First day (default: the quarter of the data's end).")] = None,
    end: Annotated[dt.date | None, Query(description="Day after the last (default: that quarter's end).")] = None,
    by: By = [],  # noqa: B006 (FastAPI copies a query default; it is never mutated)
) -> dict[str, Any]:
    """Weekly movements of the open pipeline: opening + created + amount changed − won − lost = closing."""
    ctx = DisplayContext.of(project.catalog, project.settings)
    result = project.pipeline_waterfall(start, end, by=by)
    head = {"start": result.start.isoformat(), "end": result.end.isoformat(), "by": list(result.by)}
    return {**head, **with_formatted(result.frame, WATERFALL_UNITS, ctx)}
