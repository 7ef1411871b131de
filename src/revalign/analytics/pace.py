"""⑤ Where a KPI is heading in a period that is not over yet: the run-rate forecast behind "forecast to miss".

An alert that waits for the quarter to close tells a leader what they can no longer change. For a KPI that is a
total (a count or a sum, :data:`~revalign.definitions.kpis.spec.ADDITIVE_TARGET_AGGS`) the period's forecast is
its run rate::

    forecast = actual so far × days in the period / days elapsed

where the days elapsed run from the period's first day through the last day the KPI has data (``as_of``; the
data's own end, not the wall clock, so a late load does not read as a slump). A rate, an average or a point value
(a ratio, a snapshot) does not grow with time: its forecast is its value so far. A period whose last day the data
has reached is complete and its forecast is its actual.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import ADDITIVE_TARGET_AGGS, Kpi
from revalign.kpis.query import evaluate
from revalign.model.access import Tables
from revalign.model.calendar import parse_period


@dataclass(frozen=True)
class PeriodForecast:
    """A KPI's value so far in ``period`` and where it is heading by the period's end."""

    kpi: str
    period: str
    actual: float | None
    forecast: float | None
    as_of: dt.date | None
    elapsed_days: int
    period_days: int
    additive: bool

    @property
    def complete(self) -> bool:
        return self.elapsed_days >= self.period_days


def is_total(kpi: Kpi) -> bool:
    """Whether the KPI adds up over days (a count or a sum of simple rows): then it has a run rate."""
    return kpi.type == "simple" and kpi.agg in ADDITIVE_TARGET_AGGS


def run_rate(actual: float, elapsed_days: int, period_days: int) -> float:
    """``actual × period_days / elapsed_days`` (the actual itself once the period is over).

    >>> run_rate(30.0, 45, 90)
    60.0
    """
    if elapsed_days <= 0:
        raise ValueError("a run rate needs at least one elapsed day")
    return actual if elapsed_days >= period_days else actual * period_days / elapsed_days


def forecast_period(
    tables: Tables,
    catalog: Catalog,
    kpi: str,
    period: str,
    *,
    where: str | None = None,
    as_of: dt.date | None = None,
    fiscal_year_start_month: int = 1,
) -> PeriodForecast:
    """The run-rate forecast of ``kpi`` for ``period`` (a label such as ``2025-Q2``), narrowed by ``where``.

    ``as_of`` reads the tables as they were known at the end of that day (the ledger's as-of: a total counts the
    rows through it, a rate is the rate then); it defaults to the last day of the period on which the KPI has a
    value (one daily query), which reads the tables as they are.
    """
    p = parse_period(period, fiscal_year_start_month)
    spec = catalog.get(kpi)
    total_days = (p.end - p.start).days  # half-open [start, end)
    fs = fiscal_year_start_month
    known = None if as_of is None else as_of + dt.timedelta(days=1)  # the data as known by the end of ``as_of``
    if as_of is None:
        daily = evaluate(
            tables, catalog, [kpi], grain="day", start=p.start, end=p.end, where=where, fiscal_year_start_month=fs
        )
        daily = daily[daily["value"].notna()]
        as_of = pd.Timestamp(daily["period_start"].max()).date() if len(daily) else None
    whole = evaluate(
        tables,
        catalog,
        [kpi],
        grain=p.grain,
        start=p.start,
        end=p.end,
        where=where,
        as_of=known,
        fiscal_year_start_month=fs,
    )
    whole = whole[whole["value"].notna()]
    actual = float(whole["value"].iloc[0]) if len(whole) else None
    elapsed = min(total_days, (as_of - p.start).days + 1) if as_of is not None else 0
    additive = is_total(spec)
    forecast: float | None = None
    if actual is not None and elapsed > 0:
        forecast = run_rate(actual, elapsed, total_days) if additive else actual
    return PeriodForecast(kpi, p.label, actual, forecast, as_of, max(elapsed, 0), total_days, additive)


__all__ = ["PeriodForecast", "forecast_period", "is_total", "run_rate"]
