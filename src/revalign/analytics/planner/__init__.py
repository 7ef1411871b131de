"""⑤ The reverse-funnel planner (docs/planner.md): from a revenue target per period to the deals, opportunities,
SQLs, MQLs, leads and spend per channel it takes, at live rates and cycle-time lags, with a quota capacity check.

:func:`plan_revenue` measures the rates (:mod:`.rates`), runs the arithmetic (:mod:`.plan`) and checks capacity
(:mod:`.capacity`); ``Project.revenue_plan`` calls it with the project's tables and catalog.
"""

from __future__ import annotations

import datetime as dt

from revalign.analytics.planner.capacity import Capacity, quota_capacity
from revalign.analytics.planner.plan import CHANNEL_COLUMNS, PLAN_COLUMNS, RevenuePlan, needed_by, reverse_funnel
from revalign.analytics.planner.rates import STAGES, LiveRates, live_rates
from revalign.definitions.kpis.catalog import Catalog
from revalign.model.access import Tables
from revalign.model.calendar import parse_period

DEFAULT_HISTORY_MONTHS = 12


def data_end(tables: Tables) -> dt.date:
    """The first day of the latest month with a lead: rates are measured on whole months before it."""
    leads = tables.table("leads")
    last = tables.execute(leads.created_at.max())
    if last is None:
        raise ValueError("the planner needs leads: this project has none loaded")
    day = last.date() if isinstance(last, dt.datetime) else dt.date.fromisoformat(str(last)[:10])
    return day.replace(day=1)


def plan_revenue(
    tables: Tables,
    catalog: Catalog,
    target: float,
    period: str,
    *,
    history_end: dt.date | None = None,
    history_months: int = DEFAULT_HISTORY_MONTHS,
    fiscal_year_start_month: int = 1,
) -> RevenuePlan:
    """The reverse-funnel plan for ``target`` revenue in ``period`` (a label: ``2026-Q3``, ``2026-07``, ``2026``).

    Rates come from the ``history_months`` whole months before ``history_end`` (default: the latest month with a lead,
    or the period's start when that is earlier), so a plan for a past period uses only what was known before it.
    """
    p = parse_period(period, fiscal_year_start_month)
    if p.grain not in ("month", "quarter", "year"):
        raise ValueError(f"plan a month, a quarter or a year (2026-07, 2026-Q3, 2026). Got {period!r} instead.")
    end = (history_end or min(data_end(tables), p.start)).replace(day=1)  # whole months: a mid-month date is its month
    rates = live_rates(tables, catalog, end=end, months=history_months)
    capacity = quota_capacity(tables, p, float(target))
    return reverse_funnel(float(target), p, rates, capacity=capacity, fiscal_year_start_month=fiscal_year_start_month)


__all__ = [
    "CHANNEL_COLUMNS",
    "DEFAULT_HISTORY_MONTHS",
    "PLAN_COLUMNS",
    "STAGES",
    "Capacity",
    "LiveRates",
    "RevenuePlan",
    "data_end",
    "live_rates",
    "needed_by",
    "plan_revenue",
    "quota_capacity",
    "reverse_funnel",
]
