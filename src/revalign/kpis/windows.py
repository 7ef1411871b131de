"""Calendar windows applied to Ibis dates: offsets of inputs, conversion windows, cumulative look-backs.

The text (``"30 days"``) is parsed on the definitions side (:func:`revalign.definitions.kpis.windows.parse_window`);
here a ``(count, unit)`` pair moves a date or timestamp by calendar units (months follow calendar months and
clamp to the month's last day, as SQL ``dateadd``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from revalign.definitions.kpis.spec import Kpi
from revalign.definitions.kpis.windows import parse_window
from revalign.errors import CatalogError

MONTHS = {"month": 1, "quarter": 3, "year": 12}
"""Calendar months in each month-based unit."""


def add_window(value: ir.Value, n: int, unit: str) -> ir.Value:
    """``value`` moved by ``n`` units (negative: back), keeping its type (a timestamp stays a timestamp)."""
    if unit in ("day", "week"):
        return value + ibis.interval(days=n * (7 if unit == "week" else 1))
    return value + ibis.interval(months=n * MONTHS[unit])


def shift(value: ir.Value, n: int, unit: str) -> ir.DateValue:
    """``value`` moved by ``n`` units (negative: back), as a date."""
    return add_window(value, n, unit).cast("date")


def window_of(kpi: Kpi) -> tuple[int, str] | None:
    """The KPI's trailing window as (n, unit), or None; a readable CatalogError when it cannot be used."""
    if not kpi.window:
        return None
    if kpi.grain_to_date:
        raise CatalogError(f"KPI {kpi.name!r}: a cumulative KPI takes window or grain_to_date, not both")
    try:
        n, unit = parse_window(kpi.window)
    except ValueError as exc:
        raise CatalogError(f"KPI {kpi.name!r}: {exc}") from None
    if n < 1:
        raise CatalogError(f"KPI {kpi.name!r}: window {kpi.window!r} must be at least one {unit}")
    return n, unit
