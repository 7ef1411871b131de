"""The formatting layer on hand-written values: each expected text below is written out by hand, not computed.

A unit that reads wrong here reads wrong everywhere (pages, API ``formatted``, CLI), so each rule of
``revalign.display`` has a case: currency symbols and cents, percent of a fraction, percentage points, ratio ×,
durations, counts without decimals, missing values, signs, and period names by grain and fiscal calendar.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from revalign.definitions.kpis.catalog import load_catalog
from revalign.definitions.kpis.spec import UNITS as CATALOG_UNITS
from revalign.display import UNITS, ColumnUnit, DisplayContext, column_units, format_period, format_rows, format_value
from revalign.settings import Settings


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (3_273_456.2, "currency", "$3,273,456"),
        (45.123, "currency", "$45.12"),
        (0.0, "currency", "$0"),
        (600, "currency", "$600"),
        (-115_300.0, "currency", "−$115,300"),
        (1234.5, "currency_per_day", "$1,234/day"),
        (0.3607, "percent", "36.1%"),
        (1.053, "percent", "105.3%"),
        (-0.2778, "percent", "−27.8%"),
        (0.01, "percent_points", "+1.0 pt"),
        (-0.647, "percent_points", "−64.7 pts"),
        (0.0, "percent_points", "0.0 pts"),
        (96.5, "percent_points_x100", "+96.5 pts"),
        (53.34, "percent_x100", "53.3%"),
        (7.375, "ratio", "7.38×"),
        (6.146, "ratio", "6.15×"),
        (1.136, "ratio", "1.14×"),
        (207.0, "count", "207"),
        (3273, "count", "3,273"),
        (np.int64(12), "count", "12"),
        (2.5, "count", "2.5"),
        (14.0, "people", "14"),
        (12.34, "days", "12.3 days"),
        (4.56, "hours", "4.6 h"),
        (8.25, "months", "8.2 months"),
        (0.75, "score", "0.75"),
        (12.345, "score", "12.35"),
        (1234.5, None, "1,234"),
        (None, "currency", "—"),
        (math.nan, "percent", "—"),
        (pd.NaT, "count", "—"),
        (True, None, "yes"),
        ("smb", None, "smb"),
        (dt.datetime(2025, 3, 1), None, "2025-03-01"),
    ],
)
def test_a_value_reads_in_its_unit(value, unit, expected):
    assert format_value(value, unit) == expected


@pytest.mark.parametrize(
    ("currency", "expected"), [("USD", "$1,200"), ("EUR", "€1,200"), ("GBP", "£1,200"), ("CHF", "CHF 1,200")]
)
def test_currency_symbol_comes_from_the_project(currency, expected):
    assert format_value(1200, "currency", currency=currency) == expected


def test_signed_puts_plus_before_a_gain_only():
    assert format_value(0.05, "percent", signed=True) == "+5.0%"
    assert format_value(-0.05, "percent", signed=True) == "−5.0%"
    assert format_value(0.0, "percent", signed=True) == "0.0%"


def test_every_catalog_unit_has_a_display_rule():
    assert set(CATALOG_UNITS) <= set(UNITS)


def test_every_default_kpi_has_a_unit_the_display_knows():
    catalog = load_catalog()
    missing = {n: k.unit for n, k in catalog.kpis.items() if k.unit not in UNITS}
    assert not missing, missing


@pytest.mark.parametrize(
    ("start", "grain", "fiscal", "expected"),
    [
        ("2025-10-01", "quarter", 1, "2025-Q4"),
        ("2025-11-01", "month", 1, "2025-11"),
        ("2025-01-01", "year", 1, "2025"),
        ("2025-01-13", "week", 1, "2025-W03"),
        ("2025-11-14", "day", 1, "2025-11-14"),
        ("2025-02-01", "quarter", 2, "FY2026-Q1"),
        ("2025-10-01", None, 1, "2025-10-01"),
        (dt.date(2025, 7, 1), "quarter", 1, "2025-Q3"),
        (None, "quarter", 1, "—"),
        ("2025-Q4", "quarter", 1, "2025-Q4"),  # a label already reads as it is
        ("2025-W03", "week", 1, "2025-W03"),
        ("all", "month", 1, "all"),
    ],
)
def test_a_period_reads_by_its_grain_and_fiscal_calendar(start, grain, fiscal, expected):
    assert format_period(start, grain, fiscal) == expected


CTX = DisplayContext(
    currency="EUR",
    grain="quarter",
    north_star="new_revenue",
    kpi_units=(("cac", "currency"), ("new_revenue", "currency"), ("romi", "ratio"), ("win_rate", "percent")),
)


def test_scorecard_columns_take_each_rows_kpi_unit():
    rows = [
        {"kpi": "win_rate", "unit": "percent", "actual": 0.361, "target": 0.4, "change": 0.01, "pct_change": 0.5334},
        {"kpi": "new_revenue", "unit": "currency", "actual": 3e6, "target": None, "change": -5.0, "pct_change": None},
        {"kpi": "deals_per_rep", "unit": "ratio", "actual": 7.375, "target": 6.0, "change": 1.375, "pct_change": 0.2},
    ]
    dtypes = {"kpi": "str", "unit": "str", "actual": "float64", "target": "float64", "change": "float64"}
    units = column_units(dtypes | {"pct_change": "float64"}, CTX, rows)
    assert units["actual"] == ColumnUnit(per_kpi=True) and units["change"] == ColumnUnit(per_kpi=True, change=True)
    assert units["pct_change"] == ColumnUnit(unit="percent", signed=True)
    assert "unit" not in units and "kpi" not in units
    assert format_rows(rows, units, CTX) == [
        {"actual": "36.1%", "target": "40.0%", "change": "+1.0 pt", "pct_change": "+53.3%"},
        {"actual": "€3,000,000", "target": "—", "change": "−€5", "pct_change": "—"},
        {"actual": "7.38×", "target": "6.00×", "change": "+1.38×", "pct_change": "+20.0%"},
    ]


def test_named_columns_kpi_names_suffixes_and_dtypes():
    dtypes = {
        "channel": "str",
        "spend": "float64",
        "leads": "int64",
        "cac": "float64",
        "romi": "float64",
        "cycle_days": "float64",
        "rate_from_first": "float64",
        "period_start": "object",
        "contribution_pct": "float64",
        "other": "float64",
    }
    units = {c: u.name for c, u in column_units(dtypes, CTX).items()}
    assert units == {
        "spend": "currency",
        "leads": "count",
        "cac": "currency",
        "romi": "ratio",
        "cycle_days": "days",
        "rate_from_first": "percent",
        "period_start": "period",
        "contribution_pct": "percent_points_x100",
        "other": "number",
    }
    row = {"spend": 1500.0, "leads": 3, "romi": 2.5, "period_start": "2025-10-01", "contribution_pct": 1.0}
    shown = format_rows([row], {c: u for c, u in column_units(dtypes, CTX).items() if c in row}, CTX)[0]
    assert shown == {
        "spend": "€1,500",
        "leads": "3",
        "romi": "2.50×",
        "period_start": "2025-Q4",
        "contribution_pct": "+1.0 pt",
    }


def test_a_driver_trees_contribution_is_in_its_roots_unit():
    rows = [{"kpi": "new_revenue", "kind": "root"}, {"kpi": "win_rate", "kind": "driver"}]
    units = column_units({"kpi": "str", "kind": "str", "contribution": "float64"}, CTX, rows)
    assert units["contribution"] == ColumnUnit(unit="currency")


def test_a_one_kpi_trend_and_a_reports_own_units():
    units = column_units({"period": "str", "value": "float64"}, CTX, kpi="win_rate")
    assert units["value"] == ColumnUnit(unit="percent")
    declared = column_units({"x": "float64"}, CTX, overrides={"x": "ratio"})
    assert declared["x"] == ColumnUnit(unit="ratio")


def test_context_of_a_project_reads_currency_fiscal_year_and_units():
    ctx = DisplayContext.of(load_catalog(), Settings(currency="GBP", fiscal_year_start_month=4))
    assert (ctx.currency, ctx.fiscal_year_start_month) == ("GBP", 4)
    assert ctx.unit_of("win_rate") == "percent" and ctx.unit_of("deals_per_rep") == "ratio"
    assert ctx.north_star == "new_revenue"
    assert ctx.format(0.5, "percent") == "50.0%" and ctx.format(10, "currency") == "£10"
