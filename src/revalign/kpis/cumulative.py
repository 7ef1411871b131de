"""Cumulative KPIs: all-time, grain-to-date and trailing-window totals of an input KPI (MetricFlow's ``cumulative``).

Kept apart from :mod:`revalign.kpis.compile` because windowing is its own concern and only needs a way to
evaluate the input KPI (passed in, so this module does not import the compiler). The semantics follow
MetricFlow's, so a catalog exported to dbt means the same thing:

- The total is defined per DAY ``d`` (MetricFlow's default granularity): the sum of the input over the days in
  ``(d - window, d]`` (a trailing ``window`` such as ``90 days`` or ``12 months``), over ``[start of d's
  grain_to_date period, d]``, or over every day up to ``d`` (all-time). A day has a total only when that range
  holds at least one input row (MetricFlow joins its time spine to the input, so days without input in the
  window have no row).
- At a coarser grain a period shows one of its days' totals, picked by ``period_agg``: ``first`` (the earliest
  day of the period that has a total; MetricFlow's default), ``last`` (the latest) or ``average`` (the mean over
  those days). A trailing-twelve-month figure read monthly is therefore ``period_agg: last``: the twelve months
  ending on the month's last day, whatever the window's length relative to the grain.

Working at day grain is what makes a window that is not a multiple of the grain (90 days read by month) exact.
The days run from each slice's first input day to the end of the period holding the latest input (or to the
request's end), on a dense per-slice calendar: running sums over it, and for a window the running sum ``window``
earlier subtracted (a self-join on the shifted date, so month windows follow calendar months like MetricFlow's
``dateadd``). Input before ``start`` is read back as far as the window needs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from revalign.definitions.kpis.spec import PERIOD_AGGS, Kpi, MetricInput
from revalign.errors import CatalogError
from revalign.kpis.request import Request
from revalign.kpis.windows import MONTHS, shift, window_of
from revalign.model import calendar

InputReader = Callable[[MetricInput, Request, str | None], ir.Table]
"""Evaluates an input KPI under a request and an extra filter (the compiler's, with offsets applied)."""


def lookback(
    day: dt.date, window: tuple[int, str] | None, grain_to_date: str | None, fiscal_start: int
) -> dt.date | None:
    """The first input day a total on or after ``day`` can need (None: from the beginning of time)."""
    if window is not None:
        n, unit = window
        if unit in ("day", "week"):
            return day - dt.timedelta(days=n * (7 if unit == "week" else 1))
        # the first of the month n months back is never later than day - n months (which clamps)
        return calendar.add_periods(day.replace(day=1), "month", -n * MONTHS[unit])
    if grain_to_date:
        return calendar.period_start(day, grain_to_date, fiscal_start)
    return None


def cumulative_table(kpi: Kpi, req: Request, extra: str | None, read_input: InputReader) -> ir.Table:
    """(period_start, <by…>, value): the daily total of ``kpi.input_metric`` aggregated to ``req.grain``."""
    if kpi.input_metric is None:
        raise CatalogError(f"KPI {kpi.name!r}: cumulative needs input_metric")
    agg = kpi.cumulative_period_agg
    if agg not in PERIOD_AGGS:
        raise CatalogError(f"KPI {kpi.name!r}: period_agg must be one of {', '.join(PERIOD_AGGS)}. Got {agg!r}.")
    window = window_of(kpi)
    fs = req.fiscal_year_start_month
    first = calendar.period_start(req.start, req.grain, fs) if req.start is not None else None
    # periods are kept when they start before ``end``; the last one is read to its end. The input is read past
    # ``end`` (``end`` selects periods, it must not move where a slice's days stop) and before ``start`` as far
    # back as the window reaches.
    stop = (
        calendar.period_end(calendar.period_start(req.end - dt.timedelta(days=1), req.grain, fs), req.grain)
        if req.end
        else None
    )
    daily_req = dataclasses.replace(
        req, grain="day", start=lookback(first, window, kpi.grain_to_date, fs) if first else None, end=None
    )
    base = read_input(kpi.input_metric, daily_req, extra)
    keys = [f"__k{i}" for i in range(len(req.by))]
    x = base.select(
        __x=base.period_start.cast("date"), __v=base.value, **{k: base[d] for k, d in zip(keys, req.by, strict=True)}
    )

    # each slice's days: from its first input day to the end of the period holding its last one
    span = {"__lo": x["__x"].min(), "__hi": _period_last_day(x["__x"].max(), req.grain, fs, stop)}
    slices = x.group_by(keys).aggregate(**span) if keys else x.aggregate(**span)
    grid = _days(slices).cross_join(slices)
    grid = grid.filter((grid["__d"] >= grid["__lo"]) & (grid["__d"] <= grid["__hi"]))
    xr = x.rename({f"__x{k}": k for k in keys})
    j = grid.left_join(xr, [grid["__d"] == xr["__x"], *[grid[k] == xr[f"__x{k}"] for k in keys]])
    g = j.select("__d", *keys, __v=j["__v"].fill_null(0.0), __n=ibis.ifelse(j["__x"].notnull(), 1, 0))

    part = list(keys)
    if kpi.grain_to_date:
        g = g.mutate(__b=calendar.truncate(g["__d"], kpi.grain_to_date, fs))
        part.append("__b")
    w = ibis.cumulative_window(group_by=[g[c] for c in part] or None, order_by=g["__d"])
    g = g.mutate(__c=g["__v"].sum().over(w), __cn=g["__n"].sum().over(w))
    if window is not None:
        n, unit = window
        prev = g.select(__pd=g["__d"], __pc=g["__c"], __pn=g["__cn"], **{f"__p{k}": g[k] for k in keys}).view()
        g = g.mutate(__back=shift(g["__d"], -n, unit))
        j = g.left_join(prev, [g["__back"] == prev["__pd"], *[g[k] == prev[f"__p{k}"] for k in keys]])
        g = j.select("__d", *keys, __val=j["__c"] - j["__pc"].fill_null(0.0), __cnt=j["__cn"] - j["__pn"].fill_null(0))
    else:
        g = g.select("__d", *keys, __val=g["__c"], __cnt=g["__cn"])
    g = g.filter(g["__cnt"] > 0)

    g = g.mutate(
        period_start=calendar.truncate(g["__d"], req.grain, fs), **{d: g[k] for k, d in zip(keys, req.by, strict=True)}
    )
    group = ["period_start", *req.by]
    if agg == "average":
        out = g.group_by(group).aggregate(value=g["__val"].mean())
    else:
        pick = g["__d"].min() if agg == "first" else g["__d"].max()
        g = g.mutate(__pick=pick.over(ibis.window(group_by=[g[c] for c in group])))
        out = g.filter(g["__d"] == g["__pick"]).select(*group, value=g["__val"])
    if first is not None:
        out = out.filter(out.period_start >= first)
    if req.end is not None:
        out = out.filter(out.period_start < req.end)
    return out.select("period_start", *req.by, value=out.value.cast("float64"))


def _period_last_day(day: ir.Value, grain: str, fs: int, stop: dt.date | None) -> ir.Value:
    """The last day of the period (at ``grain``) holding ``day``, or the day before ``stop`` if earlier."""
    last = shift(shift(calendar.truncate(day, grain, fs), 1, grain), -1, "day")
    return ibis.least(last, ibis.literal(stop - dt.timedelta(days=1))) if stop is not None else last


def _days(slices: ir.Table) -> ir.Table:
    """Every day from the earliest slice start ``__lo`` to the latest slice end ``__hi``: one column ``__d``."""
    bounds = slices.aggregate(__lo=slices["__lo"].min(), __hi=slices["__hi"].max())
    idx = bounds.select(__i=ibis.range(0, bounds["__hi"].delta(bounds["__lo"], unit="day") + 1).unnest())
    return idx.cross_join(bounds).select(__d=(bounds["__lo"] + idx["__i"].as_interval("D")).cast("date"))
