"""⑤ The forecast's backtest: at the end of each week of each past quarter, the landing it would have shown
then, against what the quarter really closed, beside two baselines.

- ``forecast``: :func:`~revalign.analytics.forecast.landing.quarter_landing` on that day (as-of data only);
- ``naive``: won so far ÷ the elapsed share of the quarter (the run-rate every spreadsheet has);
- ``reps``: the sum of the reps' quarter commit calls standing at the end of that day (the ``forecasts``
  table as known then; null where no call stood);
- ``actual``: new-business revenue closed in the quarter, as the data holds it now.

Errors are absolute percentage errors of the quarter's total; ``mape`` averages them per week of the quarter over
the quarters tested, for each method. Week ``w`` ends on day ``7·w`` of the quarter (week 13 on its last day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from revalign.analytics.forecast.landing import LOOKBACK, quarter_landing
from revalign.analytics.forecast.snapshots import name_teams, start_of, with_dims
from revalign.analytics.revenue import new_business
from revalign.model.access import Tables
from revalign.model.calendar import parse_period, period_end
from revalign.model.ledger import as_of_tables

WEEKS = 13
METHODS = ("forecast", "naive", "reps")
UNITS = {
    **dict.fromkeys(("actual", *METHODS), "currency"),
    **{f"{m}_ape": "percent" for m in METHODS},
    "week": "count",
}
"""The unit of each column of the points (and of ``mape``, whose method columns are percentages), for display."""


@dataclass(frozen=True)
class Backtest:
    """Every (quarter, week) point and the MAPE per week of quarter for each method."""

    points: pd.DataFrame  # quarter, week, as_of, actual, forecast, naive, reps, and *_ape per method
    mape: pd.DataFrame  # week, forecast, naive, reps (mean absolute percentage error, 0.1 = 10 %)

    def to_pandas(self) -> pd.DataFrame:
        return self.mape.copy()

    def to_dict(self) -> dict[str, Any]:
        points = self.points.assign(as_of=self.points["as_of"].map(dt.date.isoformat))
        return {"mape": self.mape.to_dict(orient="records"), "points": points.to_dict(orient="records")}

    @property
    def overall(self) -> dict[str, float]:
        """Each method's MAPE over every point."""
        return {m: float(self.points[f"{m}_ape"].mean()) for m in METHODS}


def week_end(quarter_start: dt.date, week: int) -> dt.date:
    """The last day of week ``week`` (1-based) of the quarter; week 13 ends on the quarter's last day."""
    last = period_end(quarter_start, "quarter") - dt.timedelta(days=1)
    return last if week >= WEEKS else min(last, quarter_start + dt.timedelta(days=7 * week - 1))


def reps_commit(tables: Tables, quarter_start: dt.date, as_of: dt.date, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Sum of the quarter commit calls standing at the end of ``as_of`` (one per rep): column ``reps``, per
    ``team`` (by name, as the landing) when split (calls carry the rep's team); empty when no call stood. Other
    splits have no calls."""
    if set(by) - {"team"}:
        return pd.DataFrame(columns=[*by, "reps"])
    calls = as_of_tables(tables.provider(), as_of)("forecasts")
    standing = calls.filter(
        (calls.category == "commit")
        & (calls.period_grain == "quarter")
        & (calls.period_start == quarter_start)
        & calls.superseded_at.isnull()
    )
    if by:
        standing = standing.mutate(team=standing.team_id)
        agg = tables.to_pandas(standing.group_by("team").agg(reps=standing.amount.sum()))
        return name_teams(tables.to_pandas, tables.provider(), agg)
    return tables.to_pandas(standing.agg(reps=standing.amount.sum())).dropna()


def actual_revenue(tables: Tables, quarter_start: dt.date, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """New-business revenue won in the quarter, as the data holds it now: column ``actual`` (per ``by``)."""
    end = period_end(quarter_start, "quarter")
    opps = with_dims(tables.provider(), new_business(tables.table("opportunities")), by)
    won = opps.filter(opps.is_won & (opps.closed_at >= start_of(quarter_start)) & (opps.closed_at < start_of(end)))
    agg = won.group_by(*by).agg(actual=won.amount.sum()) if by else won.agg(actual=won.amount.sum())
    return name_teams(tables.to_pandas, tables.provider(), tables.to_pandas(agg).fillna({"actual": 0.0}))


def _ape(value: pd.Series, actual: pd.Series) -> pd.Series:
    """|value − actual| ÷ actual; null where either is missing or nothing closed."""
    return ((value - actual).abs() / actual.where(actual > 0)).astype("float64")


def _point(tables: Tables, label: str, week: int, by: tuple[str, ...], lookback: int, fs: int) -> pd.DataFrame:
    """One backtest point: the landing and the naive run-rate (per group), and the reps' standing calls."""
    qs = parse_period(label, fs).start
    day = week_end(qs, week)
    land = quarter_landing(tables, day, by=by, lookback=lookback, fiscal_year_start_month=fs)
    frame = land.frame[[*by, "landing", "naive"]].rename(columns={"landing": "forecast"})
    reps = reps_commit(tables, qs, day, by)
    frame = frame.merge(reps, on=list(by), how="left") if by else frame.assign(reps=reps["reps"].sum() or None)
    return frame.assign(quarter=land.quarter, week=week, as_of=day)


def backtest(
    tables: Tables,
    quarters: Sequence[str],
    *,
    weeks: Sequence[int] = tuple(range(1, WEEKS + 1)),
    by: tuple[str, ...] | list[str] = (),
    lookback: int = LOOKBACK,
    fiscal_year_start_month: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Backtest the landing at the end of each week in ``weeks`` of each quarter in ``quarters`` (``2025-Q1``).

    With ``by`` (``team``…) every group of every point is one error, so the MAPE is that of the groups' landings
    (where reps' individual biases no longer cancel out in the company's total).
    """
    by, fs = tuple(by), fiscal_year_start_month
    parts = []
    todo = [(q, w) for q in quarters for w in weeks]
    for i, (label, week) in enumerate(todo):
        parts.append(_point(tables, label, week, by, lookback, fs))
        if progress is not None:
            progress(i + 1, len(todo))
    points = pd.concat(parts, ignore_index=True)
    actual = []
    for q in quarters:
        period = parse_period(q, fs)
        actual.append(actual_revenue(tables, period.start, by).assign(quarter=period.label))
    points = points.merge(pd.concat(actual, ignore_index=True), on=["quarter", *by], how="left")
    points = points[["quarter", "week", "as_of", *by, "actual", *METHODS]]
    for m in METHODS:
        points[m] = points[m].astype("float64")
        points[f"{m}_ape"] = _ape(points[m], points["actual"].astype("float64"))
    mape = points.groupby("week")[[f"{m}_ape" for m in METHODS]].mean()
    mape = mape.rename(columns={f"{m}_ape": m for m in METHODS}).reset_index()
    return Backtest(points, mape)


__all__ = ["METHODS", "UNITS", "WEEKS", "Backtest", "actual_revenue", "backtest", "reps_commit", "week_end"]
