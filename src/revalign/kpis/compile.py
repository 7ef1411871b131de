"""Compile KPI definitions into Ibis expressions: one lazy table (period_start, <dims…>, value) per KPI.

The plan for a request (KPI, grain, dimensions, filters, dates) is built here without touching data, so
``explain`` can print the SQL for any engine. Rules that keep the numbers honest:

- a ratio is sum(numerator) / sum(denominator) at the requested grain, never a mean of finer ratios;
- a division by zero gives no value (NULL), the same on every engine;
- dimensions are reached through entities (up to two joins: opportunity → owner → team), from semantic models
  whose primary entity matches; a missing dimension value shows as ``(none)`` so rows never vanish in joins;
- periods are half-open [start, end) and follow the fiscal calendar for quarters and years.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import ibis
import ibis.expr.types as ir

from revalign.definitions.kpis import expressions
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import REAGGREGABLE_AGGS, Kpi, MetricInput, SemanticModel
from revalign.definitions.kpis.windows import parse_window
from revalign.errors import CatalogError
from revalign.kpis import filters
from revalign.kpis.aggregates import SharedAggregates, aggregate
from revalign.kpis.conversion import conversion_table
from revalign.kpis.cumulative import cumulative_table
from revalign.kpis.frames import Frames, group_by_period, measure_of
from revalign.kpis.request import NONE_LABEL, Request, TableProvider
from revalign.kpis.snapshot import snapshot_table
from revalign.kpis.windows import add_window
from revalign.model import calendar

__all__ = ["NONE_LABEL", "Compiler", "Request", "TableProvider"]


class Compiler:
    """Turns catalog KPIs into Ibis tables over a table provider (a project's tables, or as-of views)."""

    def __init__(self, catalog: Catalog, tables: TableProvider, *, share_aggregates: bool = False) -> None:
        """``share_aggregates``: compile simple KPIs as placeholders that :meth:`bind` fills from one aggregate
        per semantic model, time dimension and request (for evaluating many KPIs in one query)."""
        self.catalog = catalog
        self.share_aggregates = share_aggregates
        self._frames = Frames(catalog, tables)
        self._shared = SharedAggregates(self._frames)
        # compiled KPIs by (definition, request, extra filter): derived KPIs share their inputs' expressions, so
        # an input used by many KPIs is built once per compiler (and Ibis sees one node, not many equal copies)
        self._compiled: dict[tuple[str, Request, str | None], ir.Table] = {}

    # -- tables and semantic models ---------------------------------------------------------------------------
    def table(self, name: str) -> ir.Table:
        """Canonical table or view ``name`` over this compiler's provider (built once)."""
        return self._frames.table(name)

    def model(self, name: str) -> SemanticModel:
        return self.catalog.semantic_model(name)

    def dimensions_of(self, kpi: Kpi | str) -> list[str]:
        """Standard and model dimensions the KPI can be sliced by (every input must reach them)."""
        kpi = self.catalog.get(kpi) if isinstance(kpi, str) else kpi
        return self._frames.graph.dimensions_of(kpi)

    # -- KPIs -------------------------------------------------------------------------------------------------
    def compile(self, kpi: Kpi | str, req: Request, extra_filter: str | None = None) -> ir.Table:
        """(period_start: date, <by…>: string, value: float64) for ``kpi`` under ``req``."""
        kpi = self.catalog.get(kpi) if isinstance(kpi, str) else kpi
        key = (kpi.model_dump_json(), req, extra_filter)
        if key not in self._compiled:
            self._compiled[key] = self._compile_versions(kpi, req, extra_filter)
        return self._compiled[key]

    def _compile_versions(self, kpi: Kpi, req: Request, extra_filter: str | None) -> ir.Table:
        bounds = kpi.revision_boundaries() if req.definitions == "historical" else []
        if not bounds:
            return self._compile_one(kpi, req, extra_filter)
        if req.grain == calendar.ALL:
            return self._all_time_versions(kpi, req, extra_filter, bounds)
        # one expression per definition, each kept to the periods it was in force for
        parts = []
        edges = [None, *bounds, None]
        for lo, hi in itertools.pairwise(edges):
            version = kpi.definition_at(lo if lo is not None else dt.date.min)
            expr = self._compile_one(version, req, extra_filter)
            if lo is not None:
                expr = expr.filter(expr.period_start >= lo)
            if hi is not None:
                expr = expr.filter(expr.period_start < hi)
            parts.append(expr)
        return ibis.union(*parts)

    def _all_time_versions(self, kpi: Kpi, req: Request, extra_filter: str | None, bounds: list[dt.date]) -> ir.Table:
        """All time for a revised KPI: each definition over the dates it was in force, added up.

        Only a count or a sum adds up across definitions; a mean or a median over two definitions' rows is no
        one's number, so it is refused with the way out.
        """
        if not self.is_additive(kpi):
            raise CatalogError(
                f"KPI {kpi.name!r} changed definition on {', '.join(b.isoformat() for b in bounds)} and is not a "
                "count or a sum, so an all-time value would mix definitions: ask with definitions='current' "
                "(--definitions current) or pick a calendar grain."
            )
        parts = []
        for lo, hi in itertools.pairwise([None, *bounds, None]):
            version = kpi.definition_at(lo if lo is not None else dt.date.min)
            start = max(d for d in (req.start, lo) if d is not None) if (req.start or lo) else None
            end = min(d for d in (req.end, hi) if d is not None) if (req.end or hi) else None
            if start is not None and end is not None and start >= end:
                continue
            parts.append(self._compile_one(version, dataclasses.replace(req, start=start, end=end), extra_filter))
        keys = ["period_start", *req.by]
        stacked = ibis.union(*parts, distinct=False)
        return stacked.group_by(keys).aggregate(value=stacked.value.sum())

    def _compile_one(self, kpi: Kpi, req: Request, extra_filter: str | None) -> ir.Table:
        kind = kpi.type
        if req.grain == calendar.ALL and kind in ("cumulative", "snapshot"):
            raise CatalogError(
                f"KPI {kpi.name!r} is a {kind} KPI: its value is at a point in time (or over a rolling window), "
                "not over all time; pick a calendar grain."
            )
        if kind in ("simple", "percentile"):
            out = self._simple(kpi, req, extra_filter)
        elif kind == "ratio":
            if kpi.numerator is None or kpi.denominator is None:
                raise CatalogError(f"KPI {kpi.name!r}: a ratio needs numerator and denominator")
            out = self._combine(kpi, req, {"num": kpi.numerator, "den": kpi.denominator}, "num / den", extra_filter)
        elif kind == "derived":
            out = self._combine(kpi, req, {i.ref: i for i in kpi.input_metrics}, kpi.expr or "", extra_filter)
        elif kind == "cumulative":
            out = cumulative_table(kpi, req, extra_filter, self._input)
        elif kind == "conversion":
            out = conversion_table(self._frames, kpi, req, extra_filter)
        elif kind == "snapshot":
            out = snapshot_table(self._frames, kpi, req, extra_filter)
        else:
            raise CatalogError(f"KPI {kpi.name!r} has unknown type {kind!r}")
        return out.filter(out.value.notnull())

    def rows(self, kpi: Kpi | str) -> ir.Table:
        """The rows a KPI aggregates: its semantic model's table after the model's and the KPI's filters.

        Drill-down lists these, so the records behind a number are exactly the ones the KPI counted (the rows
        behind won revenue are won new-business deals, not every deal closed in the period). The table keeps the
        model table's own columns plus ``__kpi_time``, the time the KPI puts each row in a period by.
        """
        kpi = self.catalog.get(kpi) if isinstance(kpi, str) else kpi
        if not kpi.semantic_model:
            raise CatalogError(
                f"KPI {kpi.name!r} is a {kpi.type} KPI with no rows of its own; drill into its inputs instead."
            )
        fr, time_name = self._frames.rows(kpi, Request(), None)
        own = self.table(self.model(kpi.semantic_model).table).columns
        return fr.table.select(*own, __kpi_time=fr.table[fr.columns[time_name]])

    def _simple(self, kpi: Kpi, req: Request, extra: str | None) -> ir.Table:
        sm = self.model(kpi.semantic_model or "")
        agg, expr_text = measure_of(kpi, sm)
        if self.share_aggregates:
            return self._shared.defer(kpi, sm, agg, expr_text, req, extra)
        fr, time_name = self._frames.rows(kpi, req, extra, expressions.references(expr_text) if expr_text else ())
        t = fr.table
        if expr_text:
            t = t.mutate(__v=filters.to_ibis(expr_text, fr.resolver(t)))
        t, keys = group_by_period(t, fr, fr.columns[time_name], req)
        value = aggregate(kpi, agg, t, "__v" if expr_text else None)
        return t.group_by(keys).aggregate(value=value.cast("float64"))

    def bind(self, expr: ir.Table) -> ir.Table:
        """``expr`` with every deferred simple KPI filled from its shared aggregate (see
        :meth:`revalign.kpis.aggregates.SharedAggregates.bind`)."""
        return self._shared.bind(expr)

    def is_additive(self, kpi: Kpi) -> bool:
        """Whether a missing period means zero (counts and sums) rather than 'no value'."""
        if kpi.type == "simple":
            agg = kpi.agg
            if kpi.measure:
                agg = next((m.agg for m in self.model(kpi.semantic_model or "").measures if m.name == kpi.measure), agg)
            return (agg or "count") in (*REAGGREGABLE_AGGS, "count_distinct")
        if kpi.type == "cumulative":
            return True
        return kpi.type == "conversion" and kpi.calculation == "conversions"

    def _input(self, inp: MetricInput, req: Request, extra: str | None) -> ir.Table:
        kpi = self.catalog.get(inp.name)
        conds = " and ".join(f"({c})" for c in (inp.filter, extra) if c) or None
        out = self.compile(kpi, req, conds)
        if inp.offset_window:
            n, unit = parse_window(inp.offset_window)
            out = out.mutate(period_start=add_window(out.period_start, n, unit).cast("date"))
        return out

    def _combine(
        self, kpi: Kpi, req: Request, inputs: dict[str, MetricInput], expr: str, extra: str | None
    ) -> ir.Table:
        """Line up input KPIs on (period, dims) and evaluate ``expr`` over their values.

        The inputs are stacked and pivoted with one conditional aggregate per input (each input has at most one
        row per key, so ``max`` picks it; an absent input is NULL), which is what a union of the inputs' keys
        left-joined to each input gives, in one aggregation instead of a distinct union and a join per input:
        fewer shuffles on Spark and a smaller expression for Ibis to compile.
        """
        keys = ["period_start", *req.by]
        frames = {alias: self._input(inp, req, extra) for alias, inp in inputs.items()}
        stacked = ibis.union(
            *[
                f.select(*keys, __alias=ibis.literal(alias, type="string"), __value=f.value)
                for alias, f in frames.items()
            ],
            distinct=False,
        )
        out = stacked.group_by(keys).aggregate(
            **{f"__in_{alias}": stacked["__value"].max(where=stacked["__alias"] == alias) for alias in inputs}
        )
        fills = {}
        for alias, inp in inputs.items():
            col = out[f"__in_{alias}"]
            fills[f"__in_{alias}"] = col.fill_null(0) if self.is_additive(self.catalog.get(inp.name)) else col
        out = out.mutate(**fills)
        value = filters.to_ibis(expr, lambda n: out[f"__in_{n}"])
        return out.select(*keys, value=value.cast("float64"))
