"""MetricFlow names for revalign's semantic models, dimensions and KPIs, and where a filter's names live.

MetricFlow names a dimension ``<primary entity>__<dimension>`` and an element is either a dimension or an entity
everywhere, so dimensions whose pair would clash are renamed; a KPI named like an SQL reserved word is exported as
``<name>_kpi``. A name in a filter is resolved through the semantic graph
(:mod:`revalign.definitions.kpis.semantic_graph`) exactly as the compiler resolves it, except that only
dimensions and entities count as a model's own names (MetricFlow cannot name a raw column).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.semantic_graph import SemanticGraph, split_prefix
from revalign.definitions.kpis.spec import Dimension, SemanticModel
from revalign.errors import CatalogError
from revalign.model.access import unbound_table
from revalign.model.tables import TABLES
from revalign.model.views import VIEWS

AGGS = {
    "sum": "sum",
    "count": "count",
    "count_distinct": "count_distinct",
    "avg": "average",
    "min": "min",
    "max": "max",
    "median": "median",
    "percentile": "percentile",
    "sum_boolean": "sum_boolean",
}
"""revalign aggregation → MetricFlow aggregation (only ``avg`` is spelled differently)."""
GOVERNANCE_KEYS = (
    "unit",
    "format",
    "owner",
    "department",
    "direction",
    "timing",
    "north_star",
    "parent",
    "relation",
    "range",
    "targets",
    "revisions",
    "tags",
    "sensitivity",
    "pack",
)
"""Keys MetricFlow has no place for; they go to the metric's ``config.meta.revalign``."""
RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate
    collation column concurrently constraint create cross current_catalog current_date current_role current_schema
    current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for
    foreign freeze from full grant group having ilike in initially inner intersect into is isnull join lateral
    leading left like limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary references returning right select session_user similar some symmetric system_user table
    tablesample then to trailing true union unique user using variadic verbose when where window with""".split()  # noqa: SIM905
)
"""PostgreSQL's (and so DuckDB's) reserved words: MetricFlow writes metric and measure names into SQL unquoted,
so a KPI with such a name (``references``) is exported as ``<name>_kpi`` (its name kept in ``meta``)."""
ADDITIVE = ("sum", "count", "count_distinct", "sum_boolean")
"""Aggregations revalign treats as 0 (not "no value") when an input of a ratio or derived KPI has no rows."""
TIME_SPINE = "metricflow_time_spine"
SNAPSHOT_DAY_END = "valid_on"
SNAPSHOT_DAY_START = "valid_at_start_of"


class MetricFlowExportError(CatalogError):
    """A KPI uses something MetricFlow cannot say (the message names the KPI and what to change)."""


@dataclasses.dataclass(frozen=True)
class _Ref:
    """A name as MetricFlow sees it: ``kind`` Dimension/TimeDimension/Entity and the dunder-linked name."""

    kind: str
    links: tuple[str, ...]  # entity links, first is the measure's own model's primary entity (or a join)
    element: str

    def jinja(self) -> str:
        name = "__".join((*self.links, self.element))
        if self.kind.startswith("TimeDimension:"):
            return f"{{{{ TimeDimension('{name}', '{self.kind.split(':', 1)[1]}') }}}}"
        return f"{{{{ {self.kind}('{name}') }}}}"


_PLACEHOLDER = "revalign_ref_{}"
_PLACEHOLDER_RE = re.compile(r"\brevalign_ref_(\d+)\b")


class Names:
    """The exporter's state and naming: what each semantic model, dimension and KPI is called in MetricFlow."""

    def __init__(self, catalog: Catalog, dialect: str) -> None:
        self.catalog = catalog
        self.dialect = {"spark": "spark", "pyspark": "spark", "postgresql": "postgres"}.get(dialect, dialect)
        self.snapshot_models: dict[str, SemanticModel] = {}  # base model name → its daily copy
        self.measures: dict[str, list[dict[str, Any]]] = {}  # semantic model name → generated measures
        self.measure_of: dict[str, tuple[str, str]] = {}  # KPI name → (measure name, semantic model name)
        self.entity_names = {e.name for m in catalog.semantic_models.values() for e in m.entities}
        self.renamed: dict[tuple[str, str], str] = {}  # (semantic model, dimension) → exported name
        self._schemas: dict[str, Any] = {}
        self.graph = SemanticGraph(catalog.semantic_models, catalog.kpis)

    # -- semantic models ------------------------------------------------------------------------------------
    @staticmethod
    def metric_name(name: str) -> str:
        """The exported name of a KPI (or alias): ``<name>_kpi`` for an SQL reserved word."""
        return f"{name}_kpi" if name.lower() in RESERVED else name

    def primary_entity(self, sm: SemanticModel) -> str:
        prim = sm.primary_entities
        return prim[0].name if prim else sm.name

    def dbt_model(self, sm: SemanticModel) -> str:
        """The dbt model a semantic model reads: the canonical table, or a generated filtered model."""
        return sm.name if sm.where else sm.table

    def granularity(self, sm: SemanticModel, d: Dimension) -> str:
        """A time dimension's grain: as declared; else ``day`` for a date column or a time KPIs are counted by
        (MetricFlow's metric time needs a time spine of that grain), else ``second`` (a timestamp: filters
        compare exact times, as revalign does)."""
        if d.granularity:
            return str(d.granularity)
        schema = self._schema(sm)
        if d.column in schema and schema[d.column].is_date():
            return "day"
        agg_times = {sm.agg_time_dimension, *(m.agg_time_dimension for m in sm.measures)}
        agg_times |= {k.agg_time_dimension for k in self.catalog.kpis.values() if k.semantic_model == sm.name}
        return "day" if d.name in agg_times else "second"

    def _schema(self, sm: SemanticModel) -> Any:
        """The column types of the table or view a semantic model reads (empty when unknown)."""
        table = sm.table
        if table not in self._schemas:
            if table in TABLES:
                self._schemas[table] = TABLES[table].schema
            elif table in VIEWS:
                self._schemas[table] = VIEWS[table](unbound_table).schema()
            else:
                self._schemas[table] = {}
        return self._schemas[table]

    def dim_name(self, sm: SemanticModel, name: str) -> str:
        """The exported name of dimension ``name`` of ``sm`` (renamed when MetricFlow would see a clash)."""
        return self.renamed.get((sm.name, name), name)

    def _is_entity_dim(self, sm: SemanticModel, name: str) -> bool:
        """A dimension that repeats an entity (``owner`` over ``owner_id``): MetricFlow groups by the entity."""
        d, e = sm.dimension(name), sm.entity(name)
        return d is not None and e is not None and d.column == e.column

    def _rename_clashes(self, models: list[SemanticModel]) -> None:
        """MetricFlow names a dimension ``<primary entity>__<dimension>`` and an element is a dimension or an
        entity everywhere: rename a dimension whose pair is taken, and refuse a dimension named like an entity."""
        taken: set[tuple[str, str]] = set()
        for sm in models:
            for d in sm.dimensions:
                if self._is_entity_dim(sm, d.name):
                    continue
                if d.name in self.entity_names:
                    raise MetricFlowExportError(
                        f"semantic model {sm.name!r} ({sm.ctx}): dimension {d.name!r} has the name of an entity; "
                        "MetricFlow needs an element to be either. Rename the dimension."
                    )
                pair = (self.primary_entity(sm), d.name)
                if pair in taken:
                    self.renamed[(sm.name, d.name)] = f"{sm.name}_{d.name}"
                taken.add(pair)

    def _own(self, sm: SemanticModel, name: str) -> tuple[str, str] | None:
        """(kind, element) when ``name`` is a dimension or entity of ``sm`` itself (by name, then by column)."""
        if "__" in name:
            prefixed = split_prefix(sm, name)
            return self._own(sm, prefixed[0]) if prefixed is not None and prefixed[1] else None
        d = sm.dimension(name)
        if d is None:
            d = next((x for x in sm.dimensions if x.expr == name), None)
        if d is not None and self._is_entity_dim(sm, d.name):
            return ("Entity", d.name)
        if d is not None:
            if d.type == "time":
                return (f"TimeDimension:{self.granularity(sm, d)}", self.dim_name(sm, d.name))
            return ("Dimension", self.dim_name(sm, d.name))
        e = sm.entity(name) or next((x for x in sm.entities if x.expr == name), None)
        if e is not None:
            return ("Entity", e.name)
        return None

    def _is_own(self, sm: SemanticModel, name: str) -> bool:
        return self._own(sm, name) is not None

    def resolve(self, sm: SemanticModel, name: str) -> _Ref | None:
        """Where ``name`` lives, seen from ``sm``: its own element or one reached through entity joins (the
        semantic graph's route, with only dimensions and entities counting as a model's own names)."""
        route = self.graph.route(sm, name, own=self._is_own)
        if route is None:
            return None
        last = self.catalog.semantic_model(route.path[-1][1]) if route.path else sm
        own = self._own(last, route.name)
        if own is None:
            raise AssertionError(f"the route of {name!r} ends at a name {last.name!r} owns")
        kind, element = own
        ref = _Ref(kind, () if kind == "Entity" else (self.primary_entity(last),), element)
        for entity, _ in reversed(route.path):
            ref = _link(entity, ref)
        return ref


def _link(entity: str, found: _Ref) -> _Ref:
    """``found`` (a name of the model joined on ``entity``) as seen from the model that joins it."""
    if found.kind == "Entity":
        return _Ref("Entity", (entity, *found.links), found.element)
    # the target's own primary entity is the entity we joined on: drop it, keep the rest of the path
    return _Ref(found.kind, (entity, *found.links[1:]), found.element)
