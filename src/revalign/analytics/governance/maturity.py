"""Mature periods: the latest period whose cohort KPIs have finished converting.

A conversion KPI such as "lead-to-opportunity within 180 days" puts each lead in the period it was created and
counts it as converted if an opportunity follows within the window. For the last 180 days of data that answer
is not known yet, so the latest quarter's rate is low by construction. Comparing that quarter with the one
before blames the funnel for what is only missing time (the demo's headline once charged RevOps −64.7 points
and left +93.4 to the residual). The decomposition therefore explains, by default, the latest period whose
windows have all closed by the end of the data, and says which later periods it left out and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.windows import parse_window
from revalign.model.calendar import add_periods, parse_period, period_label

_OFFSET_UNITS = {"day": "days", "week": "weeks", "month": "months", "quarter": "months", "year": "years"}


def after_window(day: dt.date, window: str) -> dt.date:
    """``day`` plus a calendar window (``"180 days"``, ``"3 months"``): when a cohort of ``day`` is complete."""
    n, unit = parse_window(window)
    offset = pd.DateOffset(**{_OFFSET_UNITS[unit]: n * 3 if unit == "quarter" else n})
    return (pd.Timestamp(day) + offset).date()


TOLERANCE = 0.1
"""Share of a period's days whose cohorts may still be open for the period to count as mature: a one-day SLA
window leaves only the last day of a quarter open, which changes nothing worth a warning."""


def is_mature(start: dt.date, end: dt.date, window: str, data_end: dt.date) -> bool:
    """Whether the cohorts of [start, end) have had ``window`` to convert by ``data_end`` (exclusive), allowing
    the last :data:`TOLERANCE` of the period to be still open."""
    cutoff = end - dt.timedelta(days=int((end - start).days * TOLERANCE))
    return after_window(cutoff, window) <= data_end


def longest_window(catalog: Catalog, kpis: Iterable[str]) -> tuple[str, str] | None:
    """(label, window) of the conversion KPI among ``kpis`` whose window ends last; None when none has one."""
    found: tuple[str, str] | None = None
    base = dt.date(2000, 1, 1)
    for name in kpis:
        kpi = catalog.kpis.get(name)
        if kpi is None or kpi.type != "conversion" or not kpi.window:
            continue
        if found is None or after_window(base, kpi.window) > after_window(base, found[1]):
            found = (kpi.label or name, kpi.window)
    return found


@dataclass(frozen=True)
class Maturity:
    """The period to explain by default, the latest period with data, and the window that tells them apart."""

    period: str
    latest: str
    kpi: str | None = None
    window: str | None = None

    @property
    def note(self) -> str | None:
        """Why later periods were left out (None when the latest period is mature)."""
        if self.period == self.latest or self.kpi is None:
            return None
        return (
            f"Explaining {self.period}, the latest period whose cohorts are complete: {self.kpi} counts "
            f"conversions within {self.window}, so periods after {self.period} (up to {self.latest}) are still "
            "converting and would read low. Pick a later period to see it anyway."
        )


def mature_period(latest: str, grain: str, window: tuple[str, str] | None, fiscal_year_start_month: int) -> Maturity:
    """The latest period up to ``latest`` that :func:`is_mature` under the window, the data ending with ``latest``;
    ``latest`` itself when there is no window."""
    if window is None:
        return Maturity(latest, latest)
    kpi, text = window
    fs = fiscal_year_start_month
    data_end = parse_period(latest, fs).end
    start = parse_period(latest, fs).start
    for _ in range(400):  # a 10-year window at day grain is ~3,700 steps; quarters need a handful
        period = parse_period(period_label(start, grain, fs), fs)
        if is_mature(period.start, period.end, text, data_end):
            return Maturity(period.label, latest, kpi, text)
        start = add_periods(start, grain, -1)
    return Maturity(latest, latest, kpi, text)
