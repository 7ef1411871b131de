"""The company calendar: time grains and fiscal years that start in any month.

KPIs are reported by period (day, week, month, quarter, year). Quarters and years follow the fiscal calendar,
whose year starts on the first day of ``fiscal_year_start_month`` and is named after the calendar year in which
it ENDS (a fiscal year starting 2025-02-01 is "FY2026"), as most finance teams do. Truncation is written once as
Ibis arithmetic on (year, month) so that DuckDB, PostgreSQL and Spark agree, and once in plain Python for period
labels and targets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from revalign.errors import UnknownNameError

GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
"""Supported grains, finest first. Weeks start on Monday (ISO)."""


ALL = "all"
"""The all-time grain a KPI can be asked at: one value over every date (or over ``start``..``end``)."""
ALL_TIME = dt.date(1900, 1, 1)
"""``period_start`` of the all-time period (a date every engine stores; no data is that old)."""
ALL_TIME_END = dt.date(9999, 12, 31)
KPI_GRAINS: tuple[str, ...] = (*GRAINS, ALL)
"""What a KPI query accepts: the calendar grains and ``all``."""


def check_kpi_grain(grain: str) -> str:
    """``grain`` if a KPI can be evaluated at it (a calendar grain or ``all``), else an error naming them."""
    if grain not in KPI_GRAINS:
        raise UnknownNameError("grain", grain, KPI_GRAINS)
    return grain


def check_grain(grain: str) -> str:
    """``grain`` if it is a known grain, else a ValueError naming the allowed ones."""
    if grain not in GRAINS:
        raise UnknownNameError("grain", grain, GRAINS)
    return grain


def _month_index_start(expr: ir.Value, months: int, fiscal_start: int) -> ir.DateValue:
    """First day of the ``months``-long fiscal block (3 = quarter, 12 = year) that contains ``expr``."""
    idx = expr.year() * 12 + expr.month() - 1  # months since year 0
    shifted = idx - (fiscal_start - 1)
    start = idx - (shifted % months)  # % of a non-negative int: the same on every engine
    return ibis.date((start // 12).cast("int32"), (start % 12 + 1).cast("int32"), ibis.literal(1, "int32"))


def truncate(expr: ir.Value, grain: str, fiscal_year_start_month: int = 1) -> ir.DateValue:
    """The first day (a date) of the period of ``grain`` that contains the date/timestamp ``expr``."""
    if grain == ALL:
        return ibis.literal(ALL_TIME, type="date")
    check_grain(grain)
    if grain == "day":
        return expr.date() if expr.type().is_timestamp() else expr
    if grain == "week":
        return expr.truncate("W").cast("date") if expr.type().is_timestamp() else expr.truncate("W")
    if grain == "month":
        return ibis.date(expr.year().cast("int32"), expr.month().cast("int32"), ibis.literal(1, "int32"))
    months = 3 if grain == "quarter" else 12
    return _month_index_start(expr, months, fiscal_year_start_month)


# -- plain Python (labels, targets) -------------------------------------------------------------------------------


def period_start(day: dt.date, grain: str, fiscal_year_start_month: int = 1) -> dt.date:
    """Python twin of :func:`truncate` for one date."""
    if grain == ALL:
        return ALL_TIME
    check_grain(grain)
    if isinstance(day, dt.datetime):
        day = day.date()
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    months = 3 if grain == "quarter" else 12
    idx = day.year * 12 + day.month - 1
    start = idx - ((idx - (fiscal_year_start_month - 1)) % months)
    return dt.date(start // 12, start % 12 + 1, 1)


def add_periods(start: dt.date, grain: str, n: int) -> dt.date:
    """The start of the period ``n`` periods after the one starting at ``start``."""
    if grain == ALL:
        if n:
            raise ValueError("all time is one period: it has no previous or next period to compare with")
        return start
    check_grain(grain)
    if grain == "day":
        return start + dt.timedelta(days=n)
    if grain == "week":
        return start + dt.timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * n
    idx = start.year * 12 + start.month - 1 + months
    return dt.date(idx // 12, idx % 12 + 1, 1)


def period_end(start: dt.date, grain: str) -> dt.date:
    """The first day AFTER the period that starts at ``start`` (half-open ranges everywhere)."""
    if grain == ALL:
        return ALL_TIME_END
    return add_periods(start, grain, 1)


def fiscal_year(day: dt.date, fiscal_year_start_month: int = 1) -> int:
    """The fiscal year of ``day``, named after the calendar year in which it ends."""
    start = period_start(day, "year", fiscal_year_start_month)
    return start.year + (1 if fiscal_year_start_month != 1 else 0)


@dataclass(frozen=True)
class Period:
    """A labelled period: half-open [start, end) at a grain."""

    label: str
    grain: str
    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end


_PATTERNS = (
    (re.compile(r"^(?:FY)?(\d{4})-?Q([1-4])$", re.I), "quarter"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(?:FY)?(\d{4})$", re.I), "year"),
    (re.compile(r"^(\d{4})-W(\d{2})$", re.I), "week"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "day"),
)


def parse_period(label: str | int | dt.date, fiscal_year_start_month: int = 1) -> Period:
    """Parse a period label: ``2025``/``FY2025`` (fiscal year), ``2025-Q1`` (fiscal quarter), ``2025-03``,
    ``2025-W07`` (ISO week) or ``2025-03-14``.

    Fiscal labels follow the year in which the fiscal year ends: with a February start, FY2026 runs from
    2025-02-01 to 2026-01-31 and its Q1 is Feb–Apr 2025.
    """
    if isinstance(label, dt.date):
        return Period(label.isoformat(), "day", label, label + dt.timedelta(days=1))
    text = str(label).strip()
    fs = fiscal_year_start_month
    for pattern, grain in _PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        g = [int(x) for x in m.groups()]
        if grain in ("year", "quarter"):
            first_year = g[0] - (1 if fs != 1 else 0)
            start = dt.date(first_year, fs, 1)
            if grain == "quarter":
                start = add_periods(start, "quarter", g[1] - 1)
        elif grain == "month":
            start = dt.date(g[0], g[1], 1)
        elif grain == "week":
            start = dt.date.fromisocalendar(g[0], g[1], 1)
        else:
            start = dt.date(g[0], g[1], g[2])
        return Period(text, grain, start, period_end(start, grain))
    raise ValueError(
        f"Cannot read period {text!r}. Use 2025 or FY2025 (fiscal year), 2025-Q1, 2025-03, 2025-W07 or 2025-03-14."
    )


def period_label(start: dt.date, grain: str, fiscal_year_start_month: int = 1) -> str:
    """The label of the period starting at ``start`` (inverse of :func:`parse_period`)."""
    if grain == ALL:
        return "all time"
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        y, w, _ = start.isocalendar()
        return f"{y}-W{w:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    fy = fiscal_year(start, fiscal_year_start_month)
    if grain == "year":
        return str(fy) if fiscal_year_start_month == 1 else f"FY{fy}"
    year_start = period_start(start, "year", fiscal_year_start_month)
    q = ((start.year * 12 + start.month) - (year_start.year * 12 + year_start.month)) // 3 + 1
    return f"{fy}-Q{q}" if fiscal_year_start_month == 1 else f"FY{fy}-Q{q}"


__all__ = [
    "ALL",
    "ALL_TIME",
    "GRAINS",
    "KPI_GRAINS",
    "Period",
    "add_periods",
    "check_grain",
    "check_kpi_grain",
    "fiscal_year",
    "parse_period",
    "period_end",
    "period_label",
    "period_start",
    "truncate",
]
