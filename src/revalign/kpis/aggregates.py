"""Aggregations of a KPI's rows, and shared aggregates: many simple KPIs of one model in one grouped scan.

:func:`aggregate` maps revalign's ``agg`` names to Ibis aggregates (the same on every engine).
:class:`SharedAggregates` lets a compiler hand out placeholders for simple KPIs and fill them later from one
aggregate per semantic model, time dimension and request (see :meth:`SharedAggregates.bind`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from revalign.definitions.kpis import expressions
from revalign.definitions.kpis.spec import Kpi, SemanticModel
from revalign.errors import CatalogError
from revalign.kpis import filters
from revalign.kpis.frames import Frames, group_by_period, time_dimension
from revalign.kpis.request import Request, conditions

_PLAIN: dict[str, Callable[[ir.Value, ir.BooleanValue | None], ir.Scalar]] = {
    "sum": lambda v, where: v.sum(where=where),
    "sum_boolean": lambda v, where: ibis.ifelse(v, 1, 0).sum(where=where),  # Postgres cannot cast boolean to bigint
    "count_distinct": lambda v, where: v.nunique(where=where),
    "avg": lambda v, where: v.mean(where=where),
    "min": lambda v, where: v.min(where=where),
    "max": lambda v, where: v.max(where=where),
}
"""Aggregations of a value that take the row filter as Ibis's ``where``."""


def aggregate(kpi: Kpi, agg: str, t: ir.Table, col: str | None, where: ir.BooleanValue | None = None) -> ir.Scalar:
    """``agg`` of column ``col`` of ``t`` (rows when ``col`` is None, for ``count``) over the rows ``where`` keeps."""
    v = t[col] if col else None
    if agg == "count":
        return v.count(where=where) if v is not None else t.count(where=where)
    if v is None:
        raise CatalogError(f"KPI {kpi.name!r}: agg {agg!r} needs an expr")
    if agg in _PLAIN:
        return _PLAIN[agg](v, where)
    if agg in ("median", "percentile"):
        if where is not None:  # Ibis's Spark compiler would apply the filter to the percentage too
            v = ibis.ifelse(where, v, ibis.null(v.type()))
        p = kpi.percentile if agg == "percentile" and kpi.percentile is not None else 0.5
        return v.median() if p == 0.5 else v.quantile(p)
    raise CatalogError(f"KPI {kpi.name!r}: unknown agg {agg!r}")


@dataclass(frozen=True)
class _Deferred:
    """A simple KPI whose aggregate is computed later, together with the other simple KPIs of its model."""

    kpi: Kpi
    agg: str
    expr: str | None
    extra: str | None
    placeholder: ir.Table


class SharedAggregates:
    """Placeholders for simple KPIs, filled by :meth:`bind` from one aggregate per model, time and request."""

    def __init__(self, frames: Frames) -> None:
        self.frames = frames
        self._deferred: dict[tuple[str, str, Request], list[_Deferred]] = {}
        self._bound: dict[Any, Any] = {}

    def defer(
        self, kpi: Kpi, sm: SemanticModel, agg: str, expr: str | None, req: Request, extra: str | None
    ) -> ir.Table:
        """A placeholder with the KPI's schema, filled in by :meth:`bind` (checked names fail now, not later)."""
        time_name = time_dimension(kpi, sm)
        needed = [time_name, *req.by, *(expressions.references(expr) if expr else [])]
        for text in conditions(kpi, req, extra):
            needed += expressions.references(text)
        self.frames.frame(sm, needed)  # unknown dimensions and columns raise here, as without sharing
        members = self._deferred.setdefault((sm.name, time_name, req), [])
        count = sum(len(m) for m in self._deferred.values())
        schema = ibis.schema({"period_start": "date", **dict.fromkeys(req.by, "string"), "value": "float64"})
        placeholder = ibis.table(schema, name=f"__deferred_{count}")
        members.append(_Deferred(kpi, agg, expr, extra, placeholder))
        return placeholder

    def bind(self, expr: ir.Table) -> ir.Table:
        """``expr`` with every deferred simple KPI replaced by its column of a shared aggregate.

        The simple KPIs of one semantic model, time dimension and request become one grouped aggregate over the
        model's rows (joined once to every dimension any of them needs), each KPI a conditional aggregate over
        the rows its own filters keep (``agg(...) FILTER (WHERE …)``) plus a count of those rows: a group where
        the count is zero is a period the KPI has no rows in, and it is left out as the KPI alone would leave it
        out. The values are the ones each KPI gives on its own; the engine scans and groups each model once.
        """
        for key, members in self._deferred.items():
            if members and members[-1].placeholder.op() not in self._bound:
                self._bound.update(self._shared_aggregate(*key, members))
        if not self._bound:
            return expr
        return expr.op().replace(self._bound).to_expr()

    def _shared_aggregate(self, sm_name: str, time_name: str, req: Request, members: list[_Deferred]) -> dict[Any, Any]:
        sm = self.frames.model(sm_name)
        needed = [time_name, *req.by]
        for text in req.where:
            needed += expressions.references(text)
        for m in members:
            needed += expressions.references(m.expr) if m.expr else []
            for cond in (m.kpi.filter, m.extra):
                needed += expressions.references(cond) if cond else []
        fr = self.frames.frame(sm, needed)
        t = fr.table
        for text in req.where:
            t = t.filter(filters.to_ibis(text, fr.resolver()))
        t = t.filter(t[fr.columns[time_name]].notnull())
        cols: dict[str, ir.Value] = {}
        for i, m in enumerate(members):
            conds = [filters.to_ibis(c, fr.resolver(t)) for c in (m.kpi.filter, m.extra) if c]
            if conds:
                cols[f"__w{i}"] = ibis.and_(*conds)
            if m.expr:
                cols[f"__v{i}"] = filters.to_ibis(m.expr, fr.resolver(t))
        t = t.mutate(**cols) if cols else t
        t, keys = group_by_period(t, fr, fr.columns[time_name], req)
        aggs: dict[str, ir.Scalar] = {}
        for i, m in enumerate(members):
            where = t[f"__w{i}"] if f"__w{i}" in t.columns else None
            aggs[f"__n{i}"] = t.count(where=where)
            value = aggregate(m.kpi, m.agg, t, f"__v{i}" if m.expr else None, where=where)
            aggs[f"__a{i}"] = value.cast("float64")
        wide = t.group_by(keys).aggregate(**aggs)
        out = {}
        for i, m in enumerate(members):
            rows = wide.filter(wide[f"__n{i}"] > 0)
            real = rows.select(
                rows.period_start.cast("date").name("period_start"), *req.by, value=rows[f"__a{i}"].cast("float64")
            )
            out[m.placeholder.op()] = real.op()
        return out
