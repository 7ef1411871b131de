"""A semantic model's rows with a column for every name a KPI needs, joined in through entities.

Where a name lives (the model itself, or up to two entity joins away) is the semantic graph's answer
(:mod:`revalign.definitions.kpis.semantic_graph`); this module turns that route into Ibis: the model's table
after its ``where``, a ``__c_<name>`` column per own name, and one left join per (entity, target model) holding
``__j_<entity>_<name>`` columns, keys compared as strings so an id typed differently in two tables still joins.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import ibis.expr.types as ir

from revalign.definitions.kpis import expressions
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.semantic_graph import SemanticGraph, split_prefix
from revalign.definitions.kpis.spec import Kpi, SemanticModel
from revalign.errors import CatalogError, UnknownNameError
from revalign.kpis import filters
from revalign.kpis.request import NONE_LABEL, Request, TableProvider, conditions
from revalign.model import calendar
from revalign.model.views import VIEWS


@dataclass
class Frame:
    """A table and, for each requested name, the column of ``table`` that holds it."""

    table: ir.Table
    columns: dict[str, str] = field(default_factory=dict)

    def resolver(self, table: ir.Table | None = None) -> Callable[[str], ir.Value]:
        """Name → column of ``table`` (default this frame's table), for :func:`filters.to_ibis`."""
        t = self.table if table is None else table

        def resolve(name: str) -> ir.Value:
            return t[self.columns[name]]

        return resolve


def time_dimension(kpi: Kpi, sm: SemanticModel) -> str:
    """The time a KPI puts each row in a period by: the KPI's, its measure's, or the model's default."""
    measure = next((m for m in sm.measures if m.name == kpi.measure), None)
    name = kpi.agg_time_dimension or (measure.agg_time_dimension if measure else None) or sm.agg_time_dimension
    if not name:
        raise CatalogError(f"KPI {kpi.name!r}: semantic model {sm.name!r} has no agg_time_dimension")
    return name


def measure_of(kpi: Kpi, sm: SemanticModel) -> tuple[str, str | None]:
    """The aggregation and the expression a simple KPI aggregates (its own, or its measure's)."""
    if kpi.measure:
        m = next((x for x in sm.measures if x.name == kpi.measure), None)
        if m is None:
            raise UnknownNameError(f"measure of {sm.name!r}", kpi.measure, [x.name for x in sm.measures])
        return m.agg or "count", m.expr or m.name
    return kpi.agg or "count", kpi.expr


def group_by_period(t: ir.Table, fr: Frame, time_col: str, req: Request) -> tuple[ir.Table, list[str]]:
    """``t`` with ``period_start`` and the request's dimensions (``(none)`` for missing), kept to its dates."""
    period = calendar.truncate(t[time_col], req.grain, req.fiscal_year_start_month)
    dims = {d: t[fr.columns[d]].cast("string").fill_null(NONE_LABEL) for d in req.by}
    t = t.mutate(period_start=period, **dims)
    if req.grain == calendar.ALL:  # one period: keep the rows whose own time falls in [start, end)
        day = t[time_col].cast("date")
        if req.start is not None:
            t = t.filter(day >= req.start)
        if req.end is not None:
            t = t.filter(day < req.end)
        return t, ["period_start", *req.by]
    if req.start is not None:
        t = t.filter(t.period_start >= calendar.period_start(req.start, req.grain, req.fiscal_year_start_month))
    if req.end is not None:
        t = t.filter(t.period_start < req.end)
    return t, ["period_start", *req.by]


class Frames:
    """Builds frames over one table provider; tables (and views) are built once per instance."""

    def __init__(self, catalog: Catalog, tables: TableProvider) -> None:
        self.catalog = catalog
        self._tables = tables
        self._cache: dict[str, ir.Table] = {}
        self.graph = SemanticGraph(catalog.semantic_models, catalog.kpis, columns=self._columns)

    def table(self, name: str) -> ir.Table:
        if name not in self._cache:
            self._cache[name] = VIEWS[name](self._tables) if name in VIEWS else self._tables(name)
        return self._cache[name]

    def _columns(self, name: str) -> Collection[str]:
        return self.table(name).columns

    def model(self, name: str) -> SemanticModel:
        return self.catalog.semantic_model(name)

    def base(self, sm: SemanticModel) -> ir.Table:
        """The model's table after its own ``where``."""
        t = self.table(sm.table)
        if sm.where:
            t = t.filter(filters.to_ibis(sm.where, lambda n: self.own(sm, t, n)))
        return t

    def own(self, sm: SemanticModel, t: ir.Table, name: str) -> ir.Value:
        """A name defined by the model itself: a dimension, an entity, a measure's expr or a raw column."""
        prefixed = split_prefix(sm, name)
        if prefixed is not None and prefixed[1]:
            return self.own(sm, t, prefixed[0])
        dim = sm.dimension(name)
        if dim is not None:
            if dim.column == name:
                return t[name]
            return filters.to_ibis(dim.column, lambda n: self._raw(sm, t, n))
        ent = sm.entity(name)
        if ent is not None:
            return t[ent.column]
        return self._raw(sm, t, name)

    @staticmethod
    def _raw(sm: SemanticModel, t: ir.Table, name: str) -> ir.Value:
        if name in t.columns:
            return t[name]
        known = sorted({d.name for d in sm.dimensions} | {e.name for e in sm.entities} | set(t.columns))
        raise UnknownNameError(f"dimension or column of semantic model {sm.name!r}", name, known)

    def frame(self, sm: SemanticModel, names: Sequence[str]) -> Frame:
        """The model's rows with a column for each requested name (joined in where needed)."""
        t = self.base(sm)
        own: dict[str, str] = {}
        remote: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for name in dict.fromkeys(names):
            found = self.graph.route(sm, name)
            if found is None:
                raise UnknownNameError(
                    f"dimension reachable from semantic model {sm.name!r}", name, self.graph.reachable(sm)
                )
            if not found.path:
                own[name] = found.name
                continue
            (entity, target), *rest = found.path
            # in the target model, the remaining hops are spelled entity__name
            inner = "__".join([e for e, _ in rest] + [found.name])
            remote.setdefault((entity, target), []).append((name, inner))
        cols: dict[str, ir.Value] = {f"__c_{k}": self.own(sm, t, v) for k, v in own.items()}
        columns = {k: f"__c_{k}" for k in own}
        out = t.mutate(**cols) if cols else t
        for (entity, target_name), items in remote.items():
            out = self._join(sm, out, entity, self.model(target_name), items)
            columns.update({n: f"__j_{entity}_{n}" for n, _ in items})
        return Frame(out, columns)

    def _join(
        self, sm: SemanticModel, out: ir.Table, entity: str, target: SemanticModel, items: list[tuple[str, str]]
    ) -> ir.Table:
        """``out`` left-joined on ``entity`` to ``target``'s frame of the (name, inner name) ``items``."""
        sub = self.frame(target, [inner for _, inner in items])
        key = _entity_column(target, entity)
        right = sub.table.select(
            __k=sub.table[key].cast("string"), **{f"__j_{entity}_{n}": sub.table[sub.columns[i]] for n, i in items}
        )
        fk = _entity_column(sm, entity)
        return out.left_join(right, out[fk].cast("string") == right["__k"]).drop("__k")

    def rows(self, kpi: Kpi, req: Request, extra: str | None, more: Sequence[str] = ()) -> tuple[Frame, str]:
        """Filtered rows of the KPI's semantic model with the time column, the dims and ``more`` names."""
        sm = self.model(kpi.semantic_model or "")
        time_name = time_dimension(kpi, sm)
        fr = self.filtered(sm, kpi, conditions(kpi, req, extra), [time_name, *req.by, *more])
        t = fr.table.filter(fr.table[fr.columns[time_name]].notnull())
        return Frame(t, fr.columns), time_name

    def filtered(self, sm: SemanticModel, kpi: Kpi, conds: Sequence[str], names: Sequence[str]) -> Frame:
        """The model's rows with ``names`` and every name the conditions and the KPI's ``expr`` use, filtered."""
        needed = list(names)
        for text in conds:
            needed += expressions.references(text)
        if kpi.expr:
            needed += expressions.references(kpi.expr)
        fr = self.frame(sm, needed)
        t = fr.table
        resolve = fr.resolver()
        for text in conds:
            t = t.filter(filters.to_ibis(text, resolve))
        return Frame(t, fr.columns)


def _entity_column(sm: SemanticModel, entity: str) -> str:
    """The column of entity ``entity`` of ``sm`` (the graph only routes through entities a model has)."""
    ent = sm.entity(entity)
    if ent is None:
        raise UnknownNameError(f"entity of semantic model {sm.name!r}", entity, [e.name for e in sm.entities])
    return ent.column
