"""Cumulative KPIs: running totals over the periods of an input KPI (MetricFlow's ``cumulative`` type).

Kept apart from :mod:`revalign.kpis.compile` because windowing is its own concern (all-time, grain-to-date,
and trailing windows) and it only needs the compiler to evaluate the input KPI.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from revalign.errors import CatalogError
from revalign.kpis.spec import Kpi
from revalign.model import calendar

if TYPE_CHECKING:
    from revalign.kpis.compile import Compiler, Request


def cumulative_table(compiler: Compiler, kpi: Kpi, req: Request, extra: str | None) -> ir.Table:
    """A running total of ``kpi.input_metric``: all-time, or restarting every ``grain_to_date`` period.

    The input is evaluated from the beginning of time (``start`` dropped) so the running total is right in the
    first requested period; the period filter is applied after the window.
    """
    if kpi.input_metric is None:
        raise CatalogError(f"KPI {kpi.name!r}: cumulative needs input_metric")
    inner_req = dataclasses.replace(req, start=None)
    base = compiler._input(kpi.input_metric, inner_req, extra)
    group = [base[d] for d in req.by]
    if kpi.grain_to_date:
        bucket = calendar.truncate(base.period_start, kpi.grain_to_date, req.fiscal_year_start_month)
        base = base.mutate(__bucket=bucket)
        group.append(base["__bucket"])
    w = ibis.cumulative_window(group_by=group or None, order_by=base.period_start)
    out = base.mutate(value=base.value.sum().over(w))
    if req.start is not None:
        out = out.filter(out.period_start >= calendar.period_start(req.start, req.grain, req.fiscal_year_start_month))
    return out.select("period_start", *req.by, "value")
