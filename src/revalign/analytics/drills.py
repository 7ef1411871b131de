"""What the drill-down behind a KPI's number is: which rows it counts, split the way the number is built.

A number can be opened only if the list behind it is exactly what it counted. That depends on the KPI's type:

- ``simple`` / ``percentile`` — the rows it aggregates whose time falls in the period (one part, ``rows``);
- ``snapshot`` — the rows valid at the period's snapshot point (its start or its end, per ``at``), not the rows
  that started in the period (active customers at 1 October are the subscriptions running that day);
- ``cumulative`` — its input's rows over the whole window that ends on the period's last day (``period_agg:
  last``; the first day for ``first``), so a trailing-twelve-month figure lists twelve months, not one quarter;
- ``ratio`` — two parts, the ``numerator`` rows and the ``denominator`` rows, each its input KPI's rows (with
  the input's own filter), so won deals and closed deals are both listed behind a win rate;
- ``conversion`` — the base events in the period (``denominator``) and those of them that converted within the
  window (``numerator``);
- ``derived`` (arithmetic over other KPIs), and ratios whose inputs are themselves built from KPIs — no rows of
  their own: the drill lists the input KPIs, each with its own drill.

This module only decides; :mod:`revalign.analytics.records` lists the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import Kpi, MetricInput
from revalign.definitions.kpis.windows import parse_window
from revalign.kpis.rows import ROW_KINDS
from revalign.kpis.windows import MONTHS
from revalign.model import calendar

PART_MODES = ("period", "snapshot", "window", "converted", "base")
"""How a part picks its rows: time in the period, valid at the snapshot point, time in the cumulative window,
a conversion's base events that converted, or all of its base events."""


@dataclass(frozen=True)
class DrillPart:
    """One list behind a number: ``role`` (rows, numerator, denominator), the KPI whose rows it lists, how."""

    role: str
    kpi: str
    rows_kpi: str
    mode: str
    filter: str | None = None


@dataclass(frozen=True)
class Drill:
    """A KPI's drill: its parts (lists of rows) or, when it has none, the input KPIs to open instead."""

    kpi: str
    parts: tuple[DrillPart, ...] = ()
    inputs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_rows(self) -> bool:
        return bool(self.parts)


def drill_of(catalog: Catalog, name: str) -> Drill:
    """The drill behind KPI ``name`` (see the module docstring)."""
    spec = catalog.get(name)
    own = _part(catalog, "rows", spec, None)
    if own is not None:
        return Drill(name, (own,))
    if spec.type == "conversion" and spec.base_metric is not None:
        base = spec.base_metric.name
        return Drill(
            name, (DrillPart("numerator", name, base, "converted"), DrillPart("denominator", name, base, "base"))
        )
    if spec.type == "ratio" and spec.numerator is not None and spec.denominator is not None:
        num = _input_part(catalog, "numerator", spec.numerator)
        den = _input_part(catalog, "denominator", spec.denominator)
        if num is not None and den is not None:
            return Drill(name, (num, den))
        return Drill(name, inputs=(spec.numerator.name, spec.denominator.name))
    return Drill(name, inputs=tuple(dict.fromkeys(i.name for i in spec.input_metrics)))


def _part(catalog: Catalog, role: str, spec: Kpi, flt: str | None) -> DrillPart | None:
    """The part listing ``spec``'s own rows (or its cumulative input's), or None when it has none."""
    if spec.type in ROW_KINDS:
        return DrillPart(role, spec.name, spec.name, "snapshot" if spec.type == "snapshot" else "period", flt)
    inp = spec.input_metric
    if spec.type == "cumulative" and inp is not None and catalog.get(inp.name).type in ROW_KINDS:
        flt = " and ".join(f"({c})" for c in (inp.filter, flt) if c) or None
        return DrillPart(role, spec.name, inp.name, "window", flt)
    return None


def _input_part(catalog: Catalog, role: str, inp: MetricInput) -> DrillPart | None:
    """A ratio input's part (its rows with the input's filter), or None when the input has no rows of its own."""
    spec = catalog.get(inp.name)
    if inp.offset_window:
        return None  # a shifted input counts another period's rows: open the input KPI instead
    return _part(catalog, role, spec, inp.filter)


@dataclass(frozen=True)
class Days:
    """The rows a part lists, in time: ``start``..``end`` (inclusive days) or valid at ``at`` (a snapshot)."""

    start: dt.date | None
    end: dt.date | None
    at: dt.date | None = None


def part_days(
    catalog: Catalog, part: DrillPart, start: dt.date | None, end: dt.date | None, fiscal_start: int = 1
) -> Days:
    """The days behind a part for the period ``start``..``end`` (inclusive), as the KPI reads them.

    A snapshot is taken at the period's start (``at: period_start``) or the day after its end; a cumulative
    total is read on the period's last day (``period_agg: last``, the default catalog's choice; its first day
    for ``first``) over the window ending that day: ``(day - window, day]``, calendar months for month windows
    as the compiler shifts them, or from the start of the ``grain_to_date`` period.
    """
    spec = catalog.get(part.kpi)
    if part.mode == "snapshot":
        if spec.at == "period_end":
            return Days(None, None, end + dt.timedelta(days=1) if end is not None else None)
        return Days(None, None, start)
    if part.mode != "window":
        return Days(start, end)
    day = start if spec.cumulative_period_agg == "first" else end
    if day is None:
        return Days(None, end)
    if spec.window:
        n, unit = parse_window(spec.window)
        if unit in ("day", "week"):
            back = day - dt.timedelta(days=n * (7 if unit == "week" else 1))
        else:
            back = (pd.Timestamp(day) - pd.DateOffset(months=n * MONTHS[unit])).date()
        return Days(back + dt.timedelta(days=1), day)
    if spec.grain_to_date:
        return Days(calendar.period_start(day, spec.grain_to_date, fiscal_start), day)
    return Days(None, day)  # all-time
