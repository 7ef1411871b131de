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

import datetime as dt
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import REAGGREGABLE_AGGS, Kpi, MetricInput, SemanticModel
from revalign.errors import CatalogError, UnknownNameError
from revalign.kpis import filters
from revalign.kpis.cumulative import cumulative_table
from revalign.model import calendar
from revalign.model.views import VIEWS

NONE_LABEL = "(none)"
TableProvider = Callable[[str], ir.Table]
MAX_HOPS = 2


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


@dataclass(frozen=True)
class _Deferred:
    """A simple KPI whose aggregate is computed later, together with the other simple KPIs of its model."""

    kpi: Kpi
    agg: str
    expr: str | None
    extra: str | None
    placeholder: ir.Table


@dataclass
class _Resolved:
    """Where a name lives: in the model itself (``path`` empty) or through a chain of entity joins."""

    path: tuple[tuple[str, str], ...]  # ((entity, target model), …)
    name: str  # the name to resolve in the last model


@dataclass
class _Frame:
    table: ir.Table
    columns: dict[str, str] = field(default_factory=dict)  # requested name → column of ``table``


def parse_window(text: str) -> tuple[int, str]:
    """``"30 days"`` → (30, "day"). Units: day, week, month, quarter, year (singular or plural)."""
    m = re.fullmatch(r"\s*(\d+)\s*(day|week|month|quarter|year)s?\s*", text or "")
    if not m:
        raise ValueError(f"window {text!r} must look like '30 days', '2 weeks', '3 months', '1 quarter' or '1 year'.")
    return int(m.group(1)), m.group(2)


def _add(value: ir.Value, n: int, unit: str) -> ir.Value:
    if unit in ("day", "week"):
        return value + ibis.interval(days=n * (7 if unit == "week" else 1))
    return value + ibis.interval(months=n * {"month": 1, "quarter": 3, "year": 12}[unit])


class Compiler:
    """Turns catalog KPIs into Ibis tables over a table provider (a project's tables, or as-of views)."""

    def __init__(self, catalog: Catalog, tables: TableProvider, *, share_aggregates: bool = False) -> None:
        """``share_aggregates``: compile simple KPIs as placeholders that :meth:`bind` fills from one aggregate
        per semantic model, time dimension and request (for evaluating many KPIs in one query)."""
        self.catalog = catalog
        self._tables = tables
        self.share_aggregates = share_aggregates
        self._deferred: dict[tuple[str, str, Request], list[_Deferred]] = {}
        self._bound: dict[Any, Any] = {}
        self._cache: dict[str, ir.Table] = {}
        # compiled KPIs by (definition, request, extra filter): derived KPIs share their inputs' expressions, so
        # an input used by many KPIs is built once per compiler (and Ibis sees one node, not many equal copies)
        self._compiled: dict[tuple[str, Request, str | None], ir.Table] = {}

    # -- tables and semantic models ---------------------------------------------------------------------------
    def table(self, name: str) -> ir.Table:
        if name not in self._cache:
            self._cache[name] = VIEWS[name](self._tables) if name in VIEWS else self._tables(name)
        return self._cache[name]

    def model(self, name: str) -> SemanticModel:
        return self.catalog.semantic_model(name)

    def _base(self, sm: SemanticModel) -> ir.Table:
        t = self.table(sm.table)
        if sm.where:
            t = t.filter(filters.to_ibis(sm.where, lambda n: self._own(sm, t, n)))
        return t

    def _own(self, sm: SemanticModel, t: ir.Table, name: str) -> ir.Value:
        """A name defined by the model itself: a dimension, an entity, a measure's expr or a raw column."""
        if "__" in name:
            prefix, rest = name.split("__", 1)
            ent = sm.entity(prefix)
            if ent is not None and ent.type != "foreign":
                return self._own(sm, t, rest)
        dim = sm.dimension(name)
        if dim is not None:
            if dim.column == name:
                return t[name]
            return filters.to_ibis(dim.column, lambda n: self._raw(sm, t, n))
        ent = sm.entity(name)
        if ent is not None:
            return t[ent.column]
        return self._raw(sm, t, name)

    def _raw(self, sm: SemanticModel, t: ir.Table, name: str) -> ir.Value:
        if name in t.columns:
            return t[name]
        raise UnknownNameError(f"dimension or column of semantic model {sm.name!r}", name, self._names(sm, t))

    @staticmethod
    def _names(sm: SemanticModel, t: ir.Table) -> list[str]:
        return sorted({d.name for d in sm.dimensions} | {e.name for e in sm.entities} | set(t.columns))

    def _is_own(self, sm: SemanticModel, name: str) -> bool:
        if "__" in name:
            prefix, rest = name.split("__", 1)
            ent = sm.entity(prefix)
            if ent is not None and ent.type != "foreign":
                return self._is_own(sm, rest)
            return False
        if sm.dimension(name) or sm.entity(name):
            return True
        return name in self.table(sm.table).columns

    def _primary_models(self, entity: str, exclude: str) -> list[SemanticModel]:
        return [
            m
            for m in self.catalog.semantic_models.values()
            if m.name != exclude and any(e.name == entity for e in m.primary_entities)
        ]

    def resolve(self, sm: SemanticModel, name: str, hops: int = MAX_HOPS) -> _Resolved | None:
        """Find ``name`` in ``sm`` or through its foreign entities (shortest path first)."""
        if self._is_own(sm, name):
            return _Resolved((), name)
        if hops == 0:
            return None
        if "__" in name:  # entity__dimension: follow that entity first
            prefix, rest = name.split("__", 1)
            ent = sm.entity(prefix)
            if ent is not None:
                for target in self._primary_models(prefix, sm.name):
                    found = self.resolve(target, rest, hops - 1)
                    if found is not None:
                        return _Resolved(((prefix, target.name), *found.path), found.name)
        for depth in range(1, hops + 1):
            for ent in sm.entities:  # foreign → primary, and primary → primary (1:1) joins
                for target in self._primary_models(ent.name, sm.name):
                    found = self.resolve(target, name, depth - 1)
                    if found is not None:
                        return _Resolved(((ent.name, target.name), *found.path), found.name)
        return None

    def frame(self, sm: SemanticModel, names: Sequence[str]) -> _Frame:
        """The model's rows with a column for each requested name (joined in where needed)."""
        t = self._base(sm)
        own: dict[str, str] = {}
        remote: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for name in dict.fromkeys(names):
            found = self.resolve(sm, name)
            if found is None:
                raise UnknownNameError(
                    f"dimension reachable from semantic model {sm.name!r}", name, self._reachable(sm)
                )
            if not found.path:
                own[name] = found.name
                continue
            (entity, target), *rest = found.path
            # in the target model, the remaining hops are spelled entity__name
            inner = "__".join([e for e, _ in rest] + [found.name])
            remote.setdefault((entity, target), []).append((name, inner))
        cols: dict[str, ir.Value] = {f"__c_{k}": self._own(sm, t, v) for k, v in own.items()}
        columns = {k: f"__c_{k}" for k in own}
        out = t.mutate(**cols) if cols else t
        for (entity, target_name), items in remote.items():
            target = self.model(target_name)
            sub = self.frame(target, [inner for _, inner in items])
            key = target.entity(entity).column  # type: ignore[union-attr]
            right = sub.table.select(
                __k=sub.table[key].cast("string"), **{f"__j_{entity}_{n}": sub.table[sub.columns[i]] for n, i in items}
            )
            fk = sm.entity(entity).column  # type: ignore[union-attr]
            out = out.left_join(right, out[fk].cast("string") == right["__k"]).drop("__k")
            columns.update({n: f"__j_{entity}_{n}" for n, _ in items})
        return _Frame(out, columns)

    def _reachable(self, sm: SemanticModel) -> list[str]:
        names = {d.name for d in sm.dimensions}
        for ent in sm.entities:
            if ent.type == "foreign":
                for target in self._primary_models(ent.name, sm.name):
                    names |= {d.name for d in target.dimensions}
        return sorted(names)

    def dimensions_of(self, kpi: Kpi | str) -> list[str]:
        """Standard and model dimensions the KPI can be sliced by (every input must reach them)."""
        kpi = self.catalog.get(kpi) if isinstance(kpi, str) else kpi
        models = self._models_of(kpi)
        if not models:
            return []
        sets = [set(self._reachable_deep(self.model(m))) for m in models]
        return sorted(set.intersection(*sets))

    def _reachable_deep(self, sm: SemanticModel, hops: int = MAX_HOPS) -> set[str]:
        names = {d.name for d in sm.dimensions if d.type == "categorical"}
        if hops:
            for ent in sm.entities:
                for target in self._primary_models(ent.name, sm.name):
                    names |= self._reachable_deep(target, hops - 1)
        return names

    def _models_of(self, kpi: Kpi) -> list[str]:
        if kpi.semantic_model:
            return [kpi.semantic_model]
        out: list[str] = []
        for i in kpi.inputs:
            for m in self._models_of(self.catalog.get(i.name)):
                if m not in out:
                    out.append(m)
        return out

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

    def _compile_one(self, kpi: Kpi, req: Request, extra_filter: str | None) -> ir.Table:
        kind = kpi.type
        if kind in ("simple", "percentile"):
            out = self._simple(kpi, req, extra_filter)
        elif kind == "ratio":
            out = self._combine(kpi, req, {"num": kpi.numerator, "den": kpi.denominator}, "num / den", extra_filter)  # type: ignore[dict-item]
        elif kind == "derived":
            out = self._combine(kpi, req, {i.ref: i for i in kpi.input_metrics}, kpi.expr or "", extra_filter)
        elif kind == "cumulative":
            out = self._cumulative(kpi, req, extra_filter)
        elif kind == "conversion":
            out = self._conversion(kpi, req, extra_filter)
        elif kind == "snapshot":
            out = self._snapshot(kpi, req, extra_filter)
        else:
            raise CatalogError(f"KPI {kpi.name!r} has unknown type {kind!r}")
        return out.filter(out.value.notnull())

    def _filters(self, kpi: Kpi, req: Request, extra: str | None) -> list[str]:
        return [f for f in (kpi.filter, extra, *req.where) if f]

    def _time_dim(self, kpi: Kpi, sm: SemanticModel) -> str:
        measure = next((m for m in sm.measures if m.name == kpi.measure), None)
        name = kpi.agg_time_dimension or (measure.agg_time_dimension if measure else None) or sm.agg_time_dimension
        if not name:
            raise CatalogError(f"KPI {kpi.name!r}: semantic model {sm.name!r} has no agg_time_dimension")
        return name

    def _rows(self, kpi: Kpi, req: Request, extra: str | None, more: Sequence[str] = ()) -> tuple[_Frame, str]:
        """Filtered rows of the KPI's semantic model with the time column, the dims and ``more`` names."""
        sm = self.model(kpi.semantic_model or "")
        time_name = self._time_dim(kpi, sm)
        conds = self._filters(kpi, req, extra)
        needed = [time_name, *req.by, *more]
        for text in conds:
            needed += filters.references(text)
        if kpi.expr:
            needed += filters.references(kpi.expr)
        fr = self.frame(sm, needed)
        t = fr.table
        resolve = self._resolver(fr)
        for text in conds:
            t = t.filter(filters.to_ibis(text, resolve))
        time = t[fr.columns[time_name]]
        t = t.filter(time.notnull())
        return _Frame(t, fr.columns), time_name

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
        fr, time_name = self._rows(kpi, Request(), None)
        own = self.table(self.model(kpi.semantic_model).table).columns
        return fr.table.select(*own, __kpi_time=fr.table[fr.columns[time_name]])

    @staticmethod
    def _resolver(fr: _Frame, table: ir.Table | None = None) -> Callable[[str], ir.Value]:
        t = fr.table if table is None else table

        def resolve(name: str) -> ir.Value:
            return t[fr.columns[name]]

        return resolve

    def _group(self, t: ir.Table, fr: _Frame, time_col: str, req: Request) -> tuple[ir.Table, list[str]]:
        period = calendar.truncate(t[time_col], req.grain, req.fiscal_year_start_month)
        dims = {d: t[fr.columns[d]].cast("string").fill_null(NONE_LABEL) for d in req.by}
        t = t.mutate(period_start=period, **dims)
        if req.start is not None:
            t = t.filter(t.period_start >= calendar.period_start(req.start, req.grain, req.fiscal_year_start_month))
        if req.end is not None:
            t = t.filter(t.period_start < req.end)
        return t, ["period_start", *req.by]

    def _measure(self, kpi: Kpi, sm: SemanticModel) -> tuple[str, str | None]:
        """The aggregation and the expression a simple KPI aggregates (its own, or its measure's)."""
        if kpi.measure:
            m = next((x for x in sm.measures if x.name == kpi.measure), None)
            if m is None:
                raise UnknownNameError(f"measure of {sm.name!r}", kpi.measure, [x.name for x in sm.measures])
            return m.agg or "count", m.expr or m.name
        return kpi.agg or "count", kpi.expr

    def _simple(self, kpi: Kpi, req: Request, extra: str | None) -> ir.Table:
        sm = self.model(kpi.semantic_model or "")
        agg, expr_text = self._measure(kpi, sm)
        if self.share_aggregates:
            return self._defer(kpi, sm, agg, expr_text, req, extra)
        fr, time_name = self._rows(kpi, req, extra, filters.references(expr_text) if expr_text else ())
        t = fr.table
        if expr_text:
            t = t.mutate(__v=filters.to_ibis(expr_text, self._resolver(fr, t)))
        t, keys = self._group(t, fr, fr.columns[time_name], req)
        value = self._aggregate(kpi, agg, t, "__v" if expr_text else None)
        return t.group_by(keys).aggregate(value=value.cast("float64"))

    # -- shared aggregates ----------------------------------------------------------------------------------
    def _defer(
        self, kpi: Kpi, sm: SemanticModel, agg: str, expr: str | None, req: Request, extra: str | None
    ) -> ir.Table:
        """A placeholder with the KPI's schema, filled in by :meth:`bind` (checked names fail now, not later)."""
        time_name = self._time_dim(kpi, sm)
        needed = [time_name, *req.by, *(filters.references(expr) if expr else [])]
        for text in self._filters(kpi, req, extra):
            needed += filters.references(text)
        self.frame(sm, needed)  # unknown dimensions and columns raise here, as without sharing
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
        sm = self.model(sm_name)
        needed = [time_name, *req.by]
        for text in req.where:
            needed += filters.references(text)
        for m in members:
            needed += filters.references(m.expr) if m.expr else []
            for text in (m.kpi.filter, m.extra):
                needed += filters.references(text) if text else []
        fr = self.frame(sm, needed)
        t = fr.table
        for text in req.where:
            t = t.filter(filters.to_ibis(text, self._resolver(fr)))
        t = t.filter(t[fr.columns[time_name]].notnull())
        cols: dict[str, ir.Value] = {}
        for i, m in enumerate(members):
            conds = [filters.to_ibis(c, self._resolver(fr, t)) for c in (m.kpi.filter, m.extra) if c]
            if conds:
                cols[f"__w{i}"] = ibis.and_(*conds)
            if m.expr:
                cols[f"__v{i}"] = filters.to_ibis(m.expr, self._resolver(fr, t))
        t = t.mutate(**cols) if cols else t
        t, keys = self._group(t, fr, fr.columns[time_name], req)
        aggs: dict[str, ir.Scalar] = {}
        for i, m in enumerate(members):
            where = t[f"__w{i}"] if f"__w{i}" in t.columns else None
            aggs[f"__n{i}"] = t.count(where=where)
            value = self._aggregate(m.kpi, m.agg, t, f"__v{i}" if m.expr else None, where=where)
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

    @staticmethod
    def _aggregate(kpi: Kpi, agg: str, t: ir.Table, col: str | None, where: ir.BooleanValue | None = None) -> ir.Scalar:
        v = t[col] if col else None
        if agg == "count":
            return v.count(where=where) if v is not None else t.count(where=where)
        if v is None:
            raise CatalogError(f"KPI {kpi.name!r}: agg {agg!r} needs an expr")
        if agg == "sum":
            return v.sum(where=where)
        if agg == "sum_boolean":
            return ibis.ifelse(v, 1, 0).sum(where=where)  # Postgres cannot cast boolean to bigint
        if agg == "count_distinct":
            return v.nunique(where=where)
        if agg == "avg":
            return v.mean(where=where)
        if agg == "min":
            return v.min(where=where)
        if agg == "max":
            return v.max(where=where)
        if agg in ("median", "percentile"):
            if where is not None:  # Ibis's Spark compiler would apply the filter to the percentage too
                v = ibis.ifelse(where, v, ibis.null(v.type()))
            p = kpi.percentile if agg == "percentile" and kpi.percentile is not None else 0.5
            return v.median() if p == 0.5 else v.quantile(p)
        raise CatalogError(f"KPI {kpi.name!r}: unknown agg {agg!r}")

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
            out = out.mutate(period_start=_add(out.period_start, n, unit).cast("date"))
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

    def _cumulative(self, kpi: Kpi, req: Request, extra: str | None) -> ir.Table:
        return cumulative_table(self, kpi, req, extra)

    def _conversion(self, kpi: Kpi, req: Request, extra: str | None) -> ir.Table:
        """Entity-level conversion: each base event converts if a conversion event for the same entity (and the
        same constant properties) happens at or after it and within ``window``."""
        base_kpi = self.catalog.get(kpi.base_metric.name)  # type: ignore[union-attr]
        conv_kpi = self.catalog.get(kpi.conversion_metric.name)  # type: ignore[union-attr]
        entity = kpi.entity or ""
        props = [(p.get("base_property", ""), p.get("conversion_property", "")) for p in kpi.constant_properties]
        base_fr, base_time = self._rows(
            base_kpi,
            req,
            " and ".join(f"({c})" for c in (kpi.base_metric.filter, extra, kpi.filter) if c) or None,
            [entity, *[b for b, _ in props]],
        )
        conv_req = Request(grain=req.grain, fiscal_year_start_month=req.fiscal_year_start_month)
        conv_fr, conv_time = self._rows(
            conv_kpi,
            conv_req,
            kpi.conversion_metric.filter,
            [entity, *[c for _, c in props]],  # type: ignore[union-attr]
        )
        b = base_fr.table
        base = b.select(
            __e=b[base_fr.columns[entity]].cast("string"),
            __t=b[base_fr.columns[base_time]].cast("timestamp"),
            **{f"__p{i}": b[base_fr.columns[bp]].cast("string") for i, (bp, _) in enumerate(props)},
            **{f"__d_{d}": b[base_fr.columns[d]] for d in req.by},
        ).distinct()
        c = conv_fr.table
        conv = c.select(
            __ce=c[conv_fr.columns[entity]].cast("string"),
            __ct=c[conv_fr.columns[conv_time]].cast("timestamp"),
            **{f"__cp{i}": c[conv_fr.columns[cp]].cast("string") for i, (_, cp) in enumerate(props)},
        ).distinct()
        preds = [base["__e"] == conv["__ce"], conv["__ct"] >= base["__t"]]
        if kpi.window:
            n, unit = parse_window(kpi.window)
            preds.append(conv["__ct"] <= _add(base["__t"], n, unit))
        preds += [base[f"__p{i}"] == conv[f"__cp{i}"] for i in range(len(props))]
        joined = base.left_join(conv, preds)
        per_event = joined.group_by([c for c in base.columns]).aggregate(
            __converted=ibis.ifelse(joined["__ct"].notnull(), 1, 0).max()
        )
        fr = _Frame(per_event, {d: f"__d_{d}" for d in req.by})
        t, keys = self._group(per_event, fr, "__t", req)
        out = t.group_by(keys).aggregate(__n=t.count(), __c=t["__converted"].sum())
        if kpi.calculation == "conversions":
            return out.select(*keys, value=out["__c"].cast("float64"))
        return out.select(*keys, value=out["__c"].cast("float64") / out["__n"].cast("float64"))

    def _snapshot(self, kpi: Kpi, req: Request, extra: str | None) -> ir.Table:
        """Rows valid at each period's start (or end), i.e. at the end of the day before that point:
        valid_from < point <= valid_to (valid_to NULL = still valid; valid_to is the first day no longer valid)."""
        sm = self.model(kpi.semantic_model or "")
        if not sm.validity or "valid_from" not in sm.validity:
            raise CatalogError(f"KPI {kpi.name!r}: semantic model {sm.name!r} has no validity: {{valid_from: …}}")
        vf, vt = sm.validity["valid_from"], sm.validity.get("valid_to")
        conds = self._filters(kpi, req, extra)
        needed = [vf, *([vt] if vt else []), *req.by]
        for text in conds:
            needed += filters.references(text)
        if kpi.expr:
            needed += filters.references(kpi.expr)
        fr = self.frame(sm, needed)
        t = fr.table
        resolve = self._resolver(fr)
        for text in conds:
            t = t.filter(filters.to_ibis(text, resolve))
        frm = filters._as_date(t[fr.columns[vf]])
        to = filters._as_date(t[fr.columns[vt]]) if vt else ibis.null("date")
        t = t.mutate(__from=frm, __to=to)
        if kpi.expr:
            t = t.mutate(__v=filters.to_ibis(kpi.expr, self._resolver(fr, t)))
        t = t.filter(t["__from"].notnull())
        spine = self._spine(t, req)
        j = t.cross_join(spine)
        at = j.period_start if kpi.at == "period_start" else j["__next"]
        # the state at the end of the day before ``at``: started before it, not ended before it
        j = j.filter((j["__from"] < at) & (j["__to"].isnull() | (j["__to"] >= at)))
        dims = {d: j[fr.columns[d]].cast("string").fill_null(NONE_LABEL) for d in req.by}
        j = j.mutate(**dims)
        value = self._aggregate(kpi, kpi.agg or "count", j, "__v" if kpi.expr else None)
        return j.group_by(["period_start", *req.by]).aggregate(value=value.cast("float64"))

    def _spine(self, t: ir.Table, req: Request) -> ir.Table:
        """Every period start between the first valid_from and the last valid_to (or the request's dates)."""
        fs = req.fiscal_year_start_month
        lo = (
            ibis.literal(calendar.period_start(req.start, req.grain, fs))
            if req.start
            else calendar.truncate(t["__from"].min(), req.grain, fs)
        )
        # open-ended rows (valid_to NULL) are still valid today: the spine runs to today then
        last = ibis.greatest(t["__from"].max(), t["__to"].max().fill_null(t["__from"].max()))
        hi_default = ibis.ifelse(t["__to"].isnull().any(), ibis.greatest(last, ibis.today()), last)
        hi = ibis.literal(req.end - dt.timedelta(days=1)) if req.end else hi_default
        bounds = t.aggregate(__lo=lo, __hi=hi)
        if req.grain in ("day", "week"):
            step = 7 if req.grain == "week" else 1
            b = bounds.mutate(
                __lo=calendar.truncate(bounds["__lo"], req.grain, fs),
            )
            days = b.select(__i=ibis.range(0, b["__hi"].delta(b["__lo"], "day") + 1, step).unnest())
            spine = days.cross_join(b).select(period_start=(b["__lo"] + days["__i"].as_interval("D")).cast("date"))
        else:
            b = bounds.mutate(
                __lo_i=bounds["__lo"].year() * 12 + bounds["__lo"].month() - 1,
                __hi_i=bounds["__hi"].year() * 12 + bounds["__hi"].month() - 1,
            )
            idx = b.select(__i=ibis.range(b["__lo_i"], b["__hi_i"] + 1).unnest())
            date = ibis.date((idx["__i"] // 12).cast("int32"), (idx["__i"] % 12 + 1).cast("int32"), 1)
            spine = idx.select(period_start=calendar.truncate(date, req.grain, fs)).distinct()
        return spine.mutate(__next=_add(spine.period_start, 1, req.grain).cast("date"))
