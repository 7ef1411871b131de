"""What one KPI evaluation asks for: grain, dimensions, extra filters and a half-open date range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir

from revalign.definitions.kpis.spec import Kpi

NONE_LABEL = "(none)"
"""The label a missing dimension value shows as, so rows never vanish in joins or groups."""
TableProvider = Callable[[str], ir.Table]
"""Table name → lazy Ibis table (a project's tables, as-of views, or unbound tables for ``explain``)."""


@dataclass(frozen=True)
class Request:
    """What to compute: the grain, the dimensions, extra filters and the date range (half-open)."""

    grain: str = "month"
    by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    fiscal_year_start_month: int = 1
    definitions: str = "historical"  # or "current": show past periods under today's definition


def conditions(kpi: Kpi, req: Request, extra: str | None) -> list[str]:
    """Every filter that applies to a KPI's rows: its own, the caller's extra one and the request's."""
    return [f for f in (kpi.filter, extra, *req.where) if f]
