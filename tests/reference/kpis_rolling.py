"""Plain pandas references for the rolling-window (trailing) cumulative KPIs; registered into ``REFERENCE``.

Written from docs/kpis.md ("Cumulative KPIs"), not from revalign's code: the total of a day ``d`` is the sum of
the input's events on the days in ``(d - window, d]`` (or from the start of ``d``'s fiscal year), a day counts
only when that range holds at least one event day, the days run from the first event day to the end of the
month holding the last one, and a month shows the total of its LAST such day (``period_agg: last``). Here the
window sums come from binary search over the sorted event days (``searchsorted`` on cumulative sums) rather
than revalign's dense calendar and self-join.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from tests.reference.monthly import MARKETING, lifecycle, movements, opps
from tests.reference.registry import Tables, kpi


def daily(df: pd.DataFrame, time: str, value: str | None = None) -> pd.Series:
    """Events summed per calendar day (a count when ``value`` is None), indexed by ``datetime.date``."""
    df = df[df[time].notna()]
    days = pd.to_datetime(df[time]).dt.date
    out = df.groupby(days).size() if value is None else df.groupby(days)[value].sum()
    return out.astype(float).sort_index()


def trailing(
    events: pd.Series,
    *,
    days: int | None = None,
    window_months: int | None = None,
    year_to_date: bool = False,
    period_agg: str = "last",
    grain: str = "month",
) -> pd.Series:
    """Month- (or calendar quarter-) grain values of a cumulative KPI over daily ``events`` (module docstring)."""
    if events.empty:
        return pd.Series(dtype=float)
    event_days = np.array([pd.Timestamp(d) for d in events.index], dtype="datetime64[ns]")
    sums = np.concatenate([[0.0], np.cumsum(events.to_numpy())])
    first, last = pd.Timestamp(events.index[0]), pd.Timestamp(events.index[-1])
    months = 3 if grain == "quarter" else 1

    def period(day: pd.Timestamp) -> dt.date:
        return dt.date(day.year, months * ((day.month - 1) // months) + 1, 1)

    end = pd.Timestamp(period(last)) + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    rows = []
    for day in pd.date_range(first, end, freq="D"):
        hi = np.searchsorted(event_days, day.to_datetime64(), side="right")
        if year_to_date:
            lo = np.searchsorted(event_days, pd.Timestamp(day.year, 1, 1).to_datetime64(), side="left")
        else:
            back = day - (pd.DateOffset(months=window_months) if window_months else pd.Timedelta(days=days))
            lo = np.searchsorted(event_days, back.to_datetime64(), side="right")
        if hi > lo:
            rows.append((period(day), day, sums[hi] - sums[lo]))
    frame = pd.DataFrame(rows, columns=["month", "day", "value"])
    pick = {"last": "last", "first": "first", "average": "mean"}[period_agg]
    out = frame.sort_values("day").groupby("month")["value"].agg(pick)
    out.index.name = None
    return out.astype(float)


def _new_revenue_daily(t: Tables, segment: str | None = None) -> pd.Series:
    o = opps(t)
    o = o[o.is_won.astype(bool) & ((o.segment == segment) if segment else True)]
    # the revision of new_revenue: before 2024-07-01 closed-won renewals counted too
    closed = pd.to_datetime(o.closed_at)
    keep = (o.deal_type == "new_business") | ((closed < pd.Timestamp(2024, 7, 1)) & (o.deal_type == "renewal"))
    return daily(o[keep], "closed_at", "amount")


@kpi("new_revenue_ttm")
def new_revenue_ttm(t: Tables) -> pd.Series:
    return trailing(_new_revenue_daily(t), window_months=12)


@kpi("new_revenue_ytd")
def new_revenue_ytd(t: Tables) -> pd.Series:
    return trailing(_new_revenue_daily(t), year_to_date=True)


@kpi("mqls_trailing_90d")
def mqls_trailing_90d(t: Tables) -> pd.Series:
    return trailing(daily(lifecycle(t, "mql"), "occurred_at"), days=90)


@kpi("marketing_sourced_pipeline_trailing_90d")
def marketing_sourced_pipeline_trailing_90d(t: Tables) -> pd.Series:
    o = opps(t)
    o = o[(o.deal_type == "new_business") & o.lead_source.isin(MARKETING)]
    return trailing(daily(o, "created_at", "amount"), days=90)


@kpi("churned_mrr_ttm")
def churned_mrr_ttm(t: Tables) -> pd.Series:
    m = movements(t)
    return trailing(daily(m[m.movement == "churn"], "date", "amount"), window_months=12)
