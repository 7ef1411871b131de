"""Every number column of a result table gets a unit, so a whole table reads right wherever it is shown.

Result tables come from many analytics (scorecards, the driver tree, funnels, channels, records); they do not
declare units, but their column names are few and stable. :func:`column_units` maps them: a scorecard's
``actual``/``target``/``previous`` are in the unit of the row's KPI (its ``unit`` column, else the catalog's),
``change`` is the difference of two such values (a percent KPI changes by percentage points), ``attainment`` and
``pct_change`` are percentages, a column named after a KPI (``cac``, ``romi``) takes that KPI's unit, ``*_days``
are days, ``period_start`` is a period named by its grain. A report may override any of it
(``meta["units"] = {table: {column: unit}}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from revalign.definitions.kpis.catalog import Catalog
from revalign.display.periods import format_period
from revalign.display.units import UNITS, change_unit, format_value
from revalign.settings import Settings

PERIOD = "period"
"""The unit of a column holding each period's first day: shown as the period's label (``2025-Q4``)."""

KPI_VALUE_COLUMNS = frozenset({"actual", "target", "previous", "previous_value", "value", "value_from", "value_to"})
KPI_CHANGE_COLUMNS = frozenset({"change", "gap"})
SIGNED_COLUMNS = frozenset({"pct_change", "change_pct", "growth", "target_growth", "implied_growth"})
PERIOD_COLUMNS = frozenset({"period_start", "period", "cohort"})
"""Columns holding a period: its first day reads as its label; a label (2025-Q4) or "all" stays as it is."""
NAMED_UNITS: Mapping[str, str] = {
    # fractions shown as percentages (1.0 = 100 %)
    **dict.fromkeys(
        ("attainment", "worst_attainment", "pct_change", "change_pct", "rate_from_previous", "rate_from_first"),
        "percent",
    ),
    **dict.fromkeys(("share", "rate", "conversion_rate", "target_growth", "implied_growth", "growth"), "percent"),
    "employee_growth": "percent",  # an account's head-count growth, a fraction (accounts table)
    # the driver tree's share of the root's change, already in percentage points
    "contribution_pct": "percent_points_x100",
    **dict.fromkeys(("amount", "revenue", "spend", "pipeline", "cost", "mrr", "arr", "bookings", "quota"), "currency"),
    **dict.fromkeys(("budget", "avg_deal_size", "average_deal_size"), "currency"),
    **{"revenue_at_stake": "currency", "confidence": "percent"},  # audit findings
    **dict.fromkeys(("payout", "earned", "draw", "gain", "gained", "total_gain", "max_gain"), "currency"),  # comp
    **dict.fromkeys(("payout_recorded", "payout_audited"), "currency"),
    **dict.fromkeys(("median_payout", "p90_payout", "max_payout"), "currency"),  # comp: plans compared
    "score": "score",
    **dict.fromkeys(
        ("leads", "mqls", "sqls", "opportunities", "won_deals", "lost_deals", "deals", "customers", "sessions"),
        "count",
    ),
    **dict.fromkeys(("entered", "converted", "dropped", "reached", "conversions", "touches", "rows"), "count"),
    **dict.fromkeys(("step_index", "level", "total_rows", "count", "records", "open", "breaches"), "count"),
}
SUFFIX_UNITS = (
    ("_days", "days"),
    ("_hours", "hours"),
    ("_months", "months"),
    ("_rate", "percent"),
    ("_share", "percent"),
    ("_revenue", "currency"),
    ("_amount", "currency"),
    ("_spend", "currency"),
    ("_pipeline", "currency"),
    ("_cost", "currency"),
    ("_count", "count"),
)


@dataclass(frozen=True)
class ColumnUnit:
    """The unit of one column: fixed (``unit``), or each row's KPI's (``per_kpi``), possibly as a change.

    ``change``: a difference of two values in that unit (signed; a percent changes by percentage points);
    ``signed``: a ``+`` before positive values (a percentage change).
    """

    unit: str | None = None
    per_kpi: bool = False
    change: bool = False
    signed: bool = False

    @property
    def name(self) -> str | None:
        """What the API says: a unit of :data:`~revalign.display.units.UNITS`, ``period``, ``kpi`` (each row's
        KPI's unit) or ``kpi_change`` (a difference in it)."""
        if self.per_kpi:
            return "kpi_change" if self.change else "kpi"
        return self.unit


@dataclass(frozen=True)
class DisplayContext:
    """What formatting needs besides a value: the currency, the fiscal calendar, the grain, the KPIs' units."""

    currency: str = "USD"
    fiscal_year_start_month: int = 1
    grain: str | None = None
    north_star: str | None = None
    kpi_units: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, catalog: Catalog, settings: Settings) -> DisplayContext:
        """The context of a project: its currency and fiscal year (settings) and every KPI's unit (catalog)."""
        units = tuple(sorted((n, k.unit) for n, k in catalog.kpis.items() if k.unit))
        stars = [n for n, k in catalog.kpis.items() if k.north_star]  # a catalog under repair may have none yet
        star = stars[0] if len(stars) == 1 else None
        return cls(settings.currency, settings.fiscal_year_start_month, None, star, units)

    @cached_property
    def _units(self) -> dict[str, str]:
        return dict(self.kpi_units)

    def unit_of(self, kpi: Any) -> str | None:
        """The catalog unit of KPI ``kpi`` (None when unknown)."""
        return self._units.get(kpi) if isinstance(kpi, str) else None

    def at(self, grain: str | None) -> DisplayContext:
        """The same context for tables reported at ``grain`` (None keeps the current one)."""
        return replace(self, grain=grain) if grain and grain != self.grain else self

    def format(self, value: Any, unit: str | None, *, signed: bool = False) -> str:
        """``value`` in ``unit`` (or ``period``) with this context's currency, grain and fiscal calendar."""
        if unit == PERIOD:
            return format_period(value, self.grain, self.fiscal_year_start_month)
        return format_value(value, unit, currency=self.currency, signed=signed)


def _named_unit(column: str, dtype: str, ctx: DisplayContext) -> str | None:
    """A unit from the column's name alone (a known column, a KPI's name, a suffix), else from its dtype."""
    if column in NAMED_UNITS:
        return NAMED_UNITS[column]
    if ctx.unit_of(column):
        return ctx.unit_of(column)
    for suffix, unit in SUFFIX_UNITS:
        if column.endswith(suffix):
            return unit
    kind = dtype.lower()
    if "int" in kind:
        return "count"
    return "number" if "float" in kind else None


def _root_unit(rows: Sequence[Mapping[str, Any]], ctx: DisplayContext) -> str | None:
    """The unit of a driver tree's root (its contributions are in it): the ``root`` row's KPI, else the star's."""
    root = next((r.get("kpi") for r in rows if r.get("kind") == "root"), ctx.north_star)
    return ctx.unit_of(root)


def column_units(
    columns: Mapping[str, str],
    ctx: DisplayContext,
    rows: Sequence[Mapping[str, Any]] = (),
    overrides: Mapping[str, str] | None = None,
    *,
    kpi: str | None = None,
) -> dict[str, ColumnUnit]:
    """The unit of every column of ``columns`` (name → dtype) that holds numbers or periods.

    A scorecard-like table (a ``unit`` or ``kpi`` column) formats ``actual``/``target``/… per row; a table about
    one KPI (``kpi``: a trend) formats them in that KPI's unit; ``overrides`` (column → unit) come from the report
    and win.
    """
    per_row = "unit" in columns or "kpi" in columns
    out: dict[str, ColumnUnit] = {}
    for column, dtype in columns.items():
        if column in (overrides or {}):
            out[column] = ColumnUnit(unit=(overrides or {})[column])
        elif per_row and column in KPI_VALUE_COLUMNS | KPI_CHANGE_COLUMNS:
            out[column] = ColumnUnit(per_kpi=True, change=column in KPI_CHANGE_COLUMNS)
        elif kpi and ctx.unit_of(kpi) and column in KPI_VALUE_COLUMNS | KPI_CHANGE_COLUMNS:
            unit = ctx.unit_of(kpi)
            is_change = column in KPI_CHANGE_COLUMNS
            out[column] = ColumnUnit(unit=unit, change=is_change)
        elif column in PERIOD_COLUMNS:
            out[column] = ColumnUnit(unit=PERIOD)
        elif column in ("contribution", "impact"):  # shares of (or stakes in) the root's / north star's change
            out[column] = ColumnUnit(unit=_root_unit(rows, ctx) or "number")
        elif column in KPI_CHANGE_COLUMNS and "float" in dtype:
            out[column] = ColumnUnit(unit="number", change=True)
        elif (unit := _named_unit(column, dtype, ctx)) is not None and (column != "unit"):
            out[column] = ColumnUnit(unit=unit, signed=column in SIGNED_COLUMNS)
    return out


def row_unit(row: Mapping[str, Any], ctx: DisplayContext) -> str | None:
    """The unit of a row's KPI: its own ``unit`` column when it names a unit, else the catalog's for ``kpi``."""
    unit = row.get("unit")
    return unit if isinstance(unit, str) and unit in UNITS else ctx.unit_of(row.get("kpi"))


def format_cell(value: Any, column: ColumnUnit, row: Mapping[str, Any], ctx: DisplayContext) -> str:
    """One cell of ``row`` as text, in the column's unit (for a per-KPI column: the row's KPI's unit)."""
    unit = row_unit(row, ctx) if column.per_kpi else column.unit
    if column.change:
        return ctx.format(value, change_unit(unit), signed=True)
    return ctx.format(value, unit, signed=column.signed)


def format_rows(
    rows: Iterable[Mapping[str, Any]], units: Mapping[str, ColumnUnit], ctx: DisplayContext
) -> list[dict[str, str]]:
    """Each row's united columns as text (the same values, for reading), row by row."""
    return [{c: format_cell(row.get(c), u, row, ctx) for c, u in units.items()} for row in rows]


__all__ = [
    "KPI_CHANGE_COLUMNS",
    "KPI_VALUE_COLUMNS",
    "PERIOD",
    "ColumnUnit",
    "DisplayContext",
    "column_units",
    "format_cell",
    "format_rows",
    "row_unit",
]
