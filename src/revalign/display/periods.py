"""A period for reading: ``2025-Q4``, ``2025-11``, ``2025``, ``2025-W03`` or ``2025-11-14`` by grain.

Tables carry the first day of each period (``period_start``: 2025-10-01); people read the period's name, which
follows the fiscal calendar (``FY2026-Q1`` when the fiscal year starts in February). The names are the ones
``revalign.model.calendar`` parses, so a label shown can be typed back into the Period box.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from revalign.display.units import MISSING, is_missing
from revalign.model.calendar import KPI_GRAINS, period_label


def as_date(value: Any) -> dt.date | None:
    """A date from a date, a datetime/Timestamp or an ISO text; None when it is none of these."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError:
            return None
    return None


def format_period(value: Any, grain: str | None, fiscal_year_start_month: int = 1) -> str:
    """The label of the period starting on ``value`` at ``grain`` (an ISO date when the grain is unknown)."""
    if is_missing(value):
        return MISSING
    day = as_date(value)
    if day is None:
        return str(value)
    if grain not in KPI_GRAINS:
        return day.isoformat()
    return period_label(day, str(grain), fiscal_year_start_month)


__all__ = ["as_date", "format_period"]
