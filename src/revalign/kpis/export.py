"""Export the KPI catalog as a dbt semantic-layer project (MetricFlow's YAML), so the same governed definitions
can be served by dbt's Semantic Layer, or read by any tool that reads MetricFlow.

revalign's KPI spec already follows MetricFlow where the concept is the same, so most keys map one to one. The
work is in the places where the two differ (docs/metricflow.md has the whole mapping):

- MetricFlow metric filters may only name dimensions, entities and time dimensions, as Jinja
  (``{{ Dimension('opportunity__deal_type') }}``); revalign lets filters use plain names. Every filter is parsed
  through revalign's whitelist, each name is resolved through the semantic models' entities exactly as revalign
  resolves it, and the SQL is rebuilt by sqlglot with the Jinja in place. A name that is not a dimension or an
  entity (a raw column) cannot be said in MetricFlow and raises :class:`MetricFlowExportError` naming the KPI.
- The export targets the standalone ("legacy") spec that MetricFlow itself parses (``semantic_models:`` with
  measures, ``metrics:`` with ``type_params``; dbt Core 1.6-1.11, and 1.12+ for backwards compatibility; dbt
  Fusion needs the latest, model-embedded spec, which is not written yet): simple and percentile KPIs
  become a measure plus a simple metric; cumulative and conversion KPIs read the measures of their inputs, with
  the input KPIs' filters carried onto the measure inputs so nothing is dropped.
- Snapshot KPIs (rows valid at a period's start or end) have no MetricFlow type. They become semi-additive
  measures (``non_additive_dimension``) over a generated dbt model with one row per day each row is valid, which
  gives the same number: the state at the end of the day before the period starts (or at its end).
- Governance (owner, department, direction, timing, unit, format, north-star parent and relation, range,
  targets, revisions, tags) has no MetricFlow key: it goes to ``config.meta.revalign`` so nothing is lost.

The SQL MetricFlow pastes into queries (measure ``expr``, filters, generated dbt models) is rendered for one
dialect (``dialect=``, default DuckDB), because revalign's ``days_between``/``hours_between`` have no portable
SQL spelling.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Ibis adds its rewrites to sqlglot's dialects (Postgres: DATE_FROM_PARTS → MAKE_DATE) when this module is
# imported, and sqlglot fixes a dialect's generator the first time it is used: rendering SQL here before Ibis
# loaded it would leave every later Ibis query on that dialect without the rewrite (invalid SQL on Postgres).
import ibis.backends.sql.dialects  # noqa: F401
import sqlglot
import yaml
from sqlglot import exp

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import Kpi, MetricInput, SemanticModel
from revalign.errors import CatalogError
from revalign.kpis import filters
from revalign.model.views import VIEWS

FORMATS = ("metricflow",)
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
MAX_HOPS = 2


class MetricFlowExportError(CatalogError):
    """A KPI uses something MetricFlow cannot say (the message names the KPI and what to change)."""


@dataclasses.dataclass
class MetricFlowProject:
    """The exported project: YAML documents and the dbt SQL models the semantic models read."""

    semantic_models: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    models: list[dict[str, Any]]
    """dbt model properties (the time spine's ``time_spine:`` config, descriptions of generated models)."""
    sql: dict[str, str]
    """dbt model name → SQL, for the models revalign derives (time spine, filtered tables, daily snapshots)."""
    dialect: str = "duckdb"

    def files(self) -> dict[str, str]:
        """Relative path → text, ready to copy into a dbt project's ``models/`` folder."""
        header = (
            "# Generated by `revalign kpi export --format metricflow` from the revalign KPI catalog.\n"
            f"# SQL in expr/filter is rendered for {self.dialect}. Mapping: docs/metricflow.md.\n"
        )
        out = {
            "semantic_models.yml": header + _dump({"version": 2, "semantic_models": self.semantic_models}),
            "metrics.yml": header + _dump({"version": 2, "metrics": self.metrics}),
            "models.yml": header + _dump({"version": 2, "models": self.models}),
        }
        for name, sql in sorted(self.sql.items()):
            out[f"{name}.sql"] = sql
        return out

    def write(self, folder: str | Path) -> list[Path]:
        """Write :meth:`files` under ``folder`` (created if needed); returns the paths written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for rel, text in self.files().items():
            path = folder / rel
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written


class _Dumper(yaml.SafeDumper):
    """Readable YAML: Jinja filters and SQL with quotes in double quotes, multi-line text as blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else '"' if ("'" in value or "{{" in value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096, default_flow_style=False)


def to_metricflow(catalog: Catalog, *, dialect: str = "duckdb") -> MetricFlowProject:
    """The catalog as a dbt semantic-layer project (see the module docstring and docs/metricflow.md).

    Raises :class:`MetricFlowExportError` naming the KPI when a definition cannot be said in MetricFlow.
    """
    return _Exporter(catalog, dialect).run()


def export_metricflow(catalog: Catalog, out: str | Path, *, dialect: str = "duckdb") -> list[Path]:
    """Write the catalog as a dbt semantic-layer project into folder ``out``; returns the files written."""
    return to_metricflow(catalog, dialect=dialect).write(out)


# -- names --------------------------------------------------------------------------------------------------------


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


class _Exporter:
    def __init__(self, catalog: Catalog, dialect: str) -> None:
        self.catalog = catalog
        self.dialect = {"spark": "spark", "pyspark": "spark", "postgresql": "postgres"}.get(dialect, dialect)
        self.snapshot_models: dict[str, SemanticModel] = {}  # base model name → its daily copy
        self.measures: dict[str, list[dict[str, Any]]] = {}  # semantic model name → generated measures
        self.measure_of: dict[str, tuple[str, str]] = {}  # KPI name → (measure name, semantic model name)
        self.entity_names = {e.name for m in catalog.semantic_models.values() for e in m.entities}
        self.renamed: dict[tuple[str, str], str] = {}  # (semantic model, dimension) → exported name
        self._schemas: dict[str, Any] = {}

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

    def _semantic_model(self, sm: SemanticModel) -> dict[str, Any]:
        out: dict[str, Any] = {"name": sm.name}
        if sm.description:
            out["description"] = sm.description
        out["model"] = f"ref('{self.dbt_model(sm)}')"
        if sm.agg_time_dimension:
            out["defaults"] = {"agg_time_dimension": self.dim_name(sm, sm.agg_time_dimension)}
        if not sm.primary_entities:
            out["primary_entity"] = sm.name
        out["entities"] = [{"name": e.name, "type": e.type, "expr": e.column} for e in sm.entities]
        out["dimensions"] = [self._dimension(sm, d.name) for d in sm.dimensions if not self._is_entity_dim(sm, d.name)]
        measures = [self._declared_measure(sm, m) for m in sm.measures] + self.measures.get(sm.name, [])
        if measures:
            out["measures"] = measures
        meta: dict[str, Any] = {"table": sm.table}
        if sm.where:
            meta["where"] = sm.where
        if sm.validity:
            meta["validity"] = dict(sm.validity)
        out["config"] = {"meta": {"revalign": meta}}
        return out

    def granularity(self, sm: SemanticModel, d: Any) -> str:
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
        import ibis

        from revalign.model.tables import TABLES

        table = sm.table
        if table not in self._schemas:
            if table in TABLES:
                self._schemas[table] = TABLES[table].schema
            elif table in VIEWS:
                self._schemas[table] = VIEWS[table](lambda t: ibis.table(TABLES[t].schema, name=t)).schema()
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

    def _dimension(self, sm: SemanticModel, name: str) -> dict[str, Any]:
        d = sm.dimension(name)
        assert d is not None
        out: dict[str, Any] = {"name": self.dim_name(sm, d.name), "type": d.type}
        if d.description:
            out["description"] = d.description
        if d.column != out["name"]:
            out["expr"] = self.sql(d.column, lambda n: self._column_sql(sm, n, seen=(d.name,)))
        if d.type == "time":
            out["type_params"] = {"time_granularity": self.granularity(sm, d)}
        return out

    def _declared_measure(self, sm: SemanticModel, m: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"name": m.name, "agg": AGGS[m.agg]}
        if m.description:
            out["description"] = m.description
        out["expr"] = self.sql(m.expr or m.name, lambda n: self._column_sql(sm, n))
        if m.agg_time_dimension:
            out["agg_time_dimension"] = m.agg_time_dimension
        return out

    def _column_sql(self, sm: SemanticModel, name: str, seen: tuple[str, ...] = ()) -> exp.Expression:
        """A name inside a measure or dimension ``expr``: a raw column, or a dimension's own expression."""
        d = sm.dimension(name)
        if d is not None and d.expr and d.expr != name and name not in seen:
            return exp.Paren(
                this=self._translate(filters.parse(d.expr), lambda n: self._column_sql(sm, n, (*seen, name)))
            )
        e = sm.entity(name)
        if e is not None:
            return exp.column(e.column)
        return exp.column(d.column if d is not None and d.expr == name else name)

    # -- name resolution (as revalign's compiler resolves names, over the semantic models only) --------------
    def _primary_models(self, entity: str, exclude: str) -> list[SemanticModel]:
        return [
            m
            for m in self.catalog.semantic_models.values()
            if m.name != exclude and any(e.name == entity for e in m.primary_entities)
        ]

    def _own(self, sm: SemanticModel, name: str) -> tuple[str, str] | None:
        """(kind, element) when ``name`` is a dimension or entity of ``sm`` itself (by name, then by column)."""
        if "__" in name:
            prefix, rest = name.split("__", 1)
            ent = sm.entity(prefix)
            if ent is not None and ent.type != "foreign":
                return self._own(sm, rest)
            return None
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

    def resolve(self, sm: SemanticModel, name: str, hops: int = MAX_HOPS) -> _Ref | None:
        """Where ``name`` lives, seen from ``sm``: its own element or one reached through entity joins."""
        own = self._own(sm, name)
        if own is not None:
            kind, element = own
            if kind == "Entity":
                return _Ref(kind, (), element)
            return _Ref(kind, (self.primary_entity(sm),), element)
        if hops == 0:
            return None
        if "__" in name:
            prefix, rest = name.split("__", 1)
            if sm.entity(prefix) is not None:
                for target in self._primary_models(prefix, sm.name):
                    found = self.resolve(target, rest, hops - 1)
                    if found is not None:
                        return self._link(prefix, found)
        for depth in range(1, hops + 1):
            for ent in sm.entities:
                for target in self._primary_models(ent.name, sm.name):
                    found = self.resolve(target, name, depth - 1)
                    if found is not None:
                        return self._link(ent.name, found)
        return None

    @staticmethod
    def _link(entity: str, found: _Ref) -> _Ref:
        if found.kind == "Entity":
            return _Ref("Entity", (entity, *found.links), found.element)
        # the target's own primary entity is the entity we joined on: drop it, keep the rest of the path
        return _Ref(found.kind, (entity, *found.links[1:]), found.element)

    # -- SQL ----------------------------------------------------------------------------------------------------
    def _translate(self, tree: exp.Expression, column: Callable[[str], exp.Expression]) -> exp.Expression:
        """Rewrite a whitelisted revalign expression for SQL: names via ``column``, revalign's functions."""

        def fix(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                return column(node.name)
            if isinstance(node, exp.Anonymous) and str(node.this).lower() in ("days_between", "hours_between"):
                start, end = node.expressions
                if str(node.this).lower() == "days_between":  # whole calendar days
                    return exp.DateDiff(
                        this=exp.cast(end, exp.DataType.Type.DATE),
                        expression=exp.cast(start, exp.DataType.Type.DATE),
                        unit=exp.var("DAY"),
                    )
                seconds = exp.Sub(
                    this=exp.TimeToUnix(this=exp.cast(end, exp.DataType.Type.TIMESTAMP)),
                    expression=exp.TimeToUnix(this=exp.cast(start, exp.DataType.Type.TIMESTAMP)),
                )
                hours = exp.Div(this=exp.Paren(this=seconds), expression=exp.Literal.number("3600.0"))
                hours.meta["revalign_safe"] = True
                return hours
            return node

        out = tree.copy().transform(fix)
        # revalign divides as floats and a division by zero gives no value, on every engine (innermost first)
        for div in reversed(list(out.find_all(exp.Div))):
            if div.meta.get("revalign_safe"):
                continue
            num, den = div.this, div.expression
            if not isinstance(num, exp.Div):
                num = exp.cast(num, exp.DataType.Type.DOUBLE, copy=False)
            if not (isinstance(den, exp.Literal) and den.is_number and float(den.this) != 0):
                den = exp.Nullif(this=den, expression=exp.Literal.number(0))
            safe = exp.Div(this=num, expression=den)
            safe.meta["revalign_safe"] = True
            if div is out:
                out = safe
            else:
                div.replace(safe)
        return out

    def sql(self, text: str, column: Callable[[str], exp.Expression]) -> str:
        return self._translate(filters.parse(text), column).sql(dialect=self.dialect)

    def filter_sql(self, kpi: Kpi, text: str, models: list[SemanticModel]) -> str:
        """A revalign filter as a MetricFlow where filter (Jinja references, SQL for ``self.dialect``)."""
        if re.search(r"\{\{\s*Metric\(", text):
            raise MetricFlowExportError(
                f"KPI {kpi.name!r} ({kpi.ctx}): filter {text!r} uses Metric(), which the export cannot translate; "
                "filter on dimensions instead."
            )
        try:
            tree = filters.parse(text)
        except filters.ExpressionError as exc:
            raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): {exc}") from None
        refs: list[_Ref] = []

        def column(name: str) -> exp.Expression:
            found = next((r for r in (self.resolve(m, name) for m in models) if r is not None), None)
            if found is None:
                where = ", ".join(repr(m.name) for m in models)
                raise MetricFlowExportError(
                    f"KPI {kpi.name!r} ({kpi.ctx}): filter {text!r} uses {name!r}, which is not a dimension or "
                    f"entity reachable from semantic model {where}. MetricFlow filters can only name dimensions, "
                    f"entities and time dimensions: add a dimension for {name!r} to the semantic model, or filter "
                    "on an existing dimension."
                )
            refs.append(found)
            return exp.column(_PLACEHOLDER.format(len(refs) - 1))

        rendered = self._translate(tree, column).sql(dialect=self.dialect)
        return _PLACEHOLDER_RE.sub(lambda m: refs[int(m.group(1))].jinja(), rendered)

    # -- KPIs ---------------------------------------------------------------------------------------------------
    def leaf_models(self, kpi: Kpi) -> list[SemanticModel]:
        """The semantic models whose rows a KPI aggregates (its own, or its inputs')."""
        if kpi.semantic_model:
            sm = self.catalog.semantic_model(kpi.semantic_model)
            return [self.snapshot_models.get(sm.name, sm)] if kpi.type == "snapshot" else [sm]
        out: list[SemanticModel] = []
        for i in kpi.inputs:
            for m in self.leaf_models(self.catalog.get(i.name)):
                if m not in out:
                    out.append(m)
        return out

    def _measure(self, kpi: Kpi) -> None:
        """The measure behind a simple, percentile or snapshot KPI (named after the KPI)."""
        sm = self.catalog.semantic_model(kpi.semantic_model or "")
        if kpi.measure:
            self.measure_of[kpi.name] = (kpi.measure, sm.name)
            return
        agg = kpi.agg or "count"
        if agg not in AGGS:
            raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): aggregation {agg!r} has no MetricFlow name")
        target = sm
        m: dict[str, Any] = {"name": self.metric_name(kpi.name), "agg": AGGS[agg]}
        if kpi.description:
            m["description"] = " ".join(kpi.description.split())
        if kpi.expr:
            m["expr"] = self.sql(kpi.expr, lambda n: self._column_sql(sm, n))
        else:  # revalign counts rows; MetricFlow counts a non-null expression
            m["expr"] = "1"
        if agg == "percentile":
            m["agg_params"] = {"percentile": kpi.percentile if kpi.percentile is not None else 0.5}
            m["agg_params"]["use_discrete_percentile"] = False  # revalign interpolates (percentile_cont)
        if kpi.type == "snapshot":
            target = self._snapshot_model(kpi, sm)
            day = SNAPSHOT_DAY_START if kpi.at == "period_start" else SNAPSHOT_DAY_END
            m["agg_time_dimension"] = day
            m["non_additive_dimension"] = {"name": day, "window_choice": "min" if kpi.at == "period_start" else "max"}
        elif kpi.agg_time_dimension and kpi.agg_time_dimension != sm.agg_time_dimension:
            m["agg_time_dimension"] = self.dim_name(sm, kpi.agg_time_dimension)
        self.measures.setdefault(target.name, []).append(m)
        self.measure_of[kpi.name] = (m["name"], target.name)

    def _snapshot_model(self, kpi: Kpi, sm: SemanticModel) -> SemanticModel:
        """A daily copy of ``sm`` (one row per day each row is valid) for snapshot KPIs over it."""
        if sm.name in self.snapshot_models:
            return self.snapshot_models[sm.name]
        if not sm.validity or "valid_from" not in sm.validity:
            raise MetricFlowExportError(
                f"KPI {kpi.name!r} ({kpi.ctx}): snapshot over semantic model {sm.name!r}, which has no validity"
            )
        from revalign.definitions.kpis.spec import Dimension, Entity

        daily = SemanticModel(
            name=f"{sm.name}_daily",
            description=f"{sm.name} rows, one per day each is valid (generated by revalign for snapshot KPIs).",
            table=f"{sm.name}_daily",
            agg_time_dimension=SNAPSHOT_DAY_START,
            entities=[Entity(name=e.name, type="foreign", expr=e.column) for e in sm.entities],
            dimensions=[
                *[d for d in sm.dimensions if d.type == "categorical"],
                Dimension(name=SNAPSHOT_DAY_END, type="time", granularity="day", description="Valid at its end."),
                Dimension(name=SNAPSHOT_DAY_START, type="time", granularity="day", description="Valid at its start."),
            ],
            validity=dict(sm.validity),
        )
        self.snapshot_models[sm.name] = daily
        return daily

    def _input_filters(self, kpi: Kpi, inp: MetricInput, extra: Iterable[str | None] = ()) -> tuple[Kpi, list[str]]:
        """Input KPI ``inp`` (a simple KPI: MetricFlow's cumulative and conversion metrics read a measure) and
        every filter that applies to its rows: its own, the input's, and ``extra``."""
        src = self.catalog.get(inp.name)
        if src.type != "simple":
            raise MetricFlowExportError(
                f"KPI {kpi.name!r} ({kpi.ctx}): input {inp.name!r} is a {src.type} KPI; MetricFlow's "
                f"{kpi.type} metrics read a measure, so the input must be a simple KPI."
            )
        return src, [t for t in (src.filter, inp.filter, *extra) if t]

    def _filters_sql(self, kpi: Kpi, texts: list[str], models: list[SemanticModel]) -> str | None:
        parts = [self.filter_sql(kpi, t, models) for t in texts]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else " AND ".join(f"({p})" for p in parts)

    def _base_measure(self, kpi: Kpi, inp: MetricInput, extra: Iterable[str | None] = ()) -> dict[str, Any]:
        """A conversion's base measure: MetricFlow applies a base measure's filter."""
        src, texts = self._input_filters(kpi, inp, extra)
        out: dict[str, Any] = {"name": self.measure_of[src.name][0]}
        where = self._filters_sql(kpi, texts, self.leaf_models(src))
        if where:
            out["filter"] = where
        return out

    def _conversion_measure(self, kpi: Kpi, inp: MetricInput) -> dict[str, Any]:
        """A conversion's conversion measure. MetricFlow ignores a conversion measure's filter (it warns: "not
        fully supported"), so a filtered input becomes its own measure with the filter inside its expression:
        ``CASE WHEN <filter> THEN <expr> END``, which only the model's own columns can express."""
        src, texts = self._input_filters(kpi, inp)
        measure, model_name = self.measure_of[src.name]
        if not texts:
            return {"name": measure}
        sm = self.catalog.semantic_model(model_name)
        base = next((m for m in self.measures.get(sm.name, []) if m["name"] == measure), None)
        if base is None:  # a measure declared on the semantic model
            declared = next(m for m in sm.measures if m.name == measure)
            base = self._declared_measure(sm, declared)

        def column(name: str) -> exp.Expression:
            own = name  # the model's own primary entity prefix (event__stage) names its own column
            while "__" in own:
                ent = sm.entity(own.split("__", 1)[0])
                if ent is None or ent.type == "foreign":
                    break
                own = own.split("__", 1)[1]
            if self._own(sm, own) is None and self.resolve(sm, name) is not None:
                raise MetricFlowExportError(
                    f"KPI {kpi.name!r} ({kpi.ctx}): the filter of conversion input {inp.name!r} uses {name!r}, "
                    f"which semantic model {sm.name!r} reaches only through a join; MetricFlow ignores filters on "
                    "a conversion measure, so the export writes them into the measure, where only the model's own "
                    "columns exist. Filter on a dimension of the model itself."
                )
            return self._column_sql(sm, own)

        cond = " AND ".join(f"({self.sql(t, column)})" for t in texts)
        name = f"{kpi.name}_conversion_events"
        taken = set(self.catalog.kpis) | {m["name"] for ms in self.measures.values() for m in ms}
        if name in taken:
            raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): measure name {name!r} is already taken")
        out = {k: v for k, v in base.items() if k not in ("description", "expr")}
        out.update(name=name, expr=f"CASE WHEN {cond} THEN {base.get('expr', '1')} END")
        out["description"] = f"{inp.name} rows (with their filters), as conversion events of {kpi.name}."
        self.measures.setdefault(sm.name, []).append(out)
        return {"name": name}

    def _metric_input(self, kpi: Kpi, inp: MetricInput) -> dict[str, Any] | str:
        out: dict[str, Any] = {"name": self.metric_name(inp.name)}
        if inp.filter:
            out["filter"] = self.filter_sql(kpi, inp.filter, self.leaf_models(self.catalog.get(inp.name)))
        if inp.alias:
            out["alias"] = self.metric_name(inp.alias)
        if inp.offset_window:
            out["offset_window"] = inp.offset_window
        return out

    def _additive(self, kpi: Kpi) -> bool:
        if kpi.type != "simple":
            return False
        agg = kpi.agg or "count"
        if kpi.measure:
            sm = self.catalog.semantic_model(kpi.semantic_model or "")
            agg = next((m.agg for m in sm.measures if m.name == kpi.measure), agg)
        return agg in ADDITIVE

    def metric(self, kpi: Kpi) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.metric_name(kpi.name), "label": kpi.label}
        if kpi.description:
            out["description"] = " ".join(kpi.description.split())
        meta: dict[str, Any] = {"name": kpi.name} if out["name"] != kpi.name else {}
        kind = kpi.type
        if kind in ("simple", "percentile", "snapshot"):
            out["type"] = "simple"
            measure = self.measure_of[kpi.name][0]
            # revalign counts a missing period of an additive input of a ratio or derived KPI as 0; MetricFlow
            # does the same with fill_nulls_with (a metric queried alone still has no row for an empty period)
            out["type_params"] = {
                "measure": {"name": measure, "fill_nulls_with": 0} if self._additive(kpi) else measure
            }
            if kind != "simple":
                meta["type"] = kind
            if kind == "snapshot":
                meta["at"] = kpi.at
        elif kind == "ratio":
            out["type"] = "ratio"
            out["type_params"] = {
                "numerator": self._metric_input(kpi, kpi.numerator),  # type: ignore[arg-type]
                "denominator": self._metric_input(kpi, kpi.denominator),  # type: ignore[arg-type]
            }
        elif kind == "derived":
            out["type"] = "derived"
            out["type_params"] = {
                "expr": self.sql(kpi.expr or "", lambda n: exp.column(self.metric_name(n))),
                "metrics": [self._metric_input(kpi, i) for i in kpi.input_metrics],
            }
        elif kind == "cumulative":
            if kpi.input_metric is None:
                raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): cumulative needs input_metric")
            params: dict[str, Any] = {}
            window = getattr(kpi, "window", None)
            if window:
                params["window"] = window
            if kpi.grain_to_date:
                params["grain_to_date"] = kpi.grain_to_date
            params["period_agg"] = _period_agg(kpi)
            # MetricFlow drops a cumulative metric's measure-input filter but applies the metric's own filter
            src, texts = self._input_filters(kpi, kpi.input_metric, [kpi.filter])
            out["type"] = "cumulative"
            measure_input = {"name": self.measure_of[src.name][0], "fill_nulls_with": 0}  # running totals add up
            out["type_params"] = {"measure": measure_input, "cumulative_type_params": params}
            where = self._filters_sql(kpi, texts, self.leaf_models(src))
            if where:
                out["filter"] = where
            meta["input_metric"] = kpi.input_metric.name
        elif kind == "conversion":
            if kpi.base_metric is None or kpi.conversion_metric is None or not kpi.entity:
                raise MetricFlowExportError(
                    f"KPI {kpi.name!r} ({kpi.ctx}): conversion needs entity, base_metric and conversion_metric"
                )
            conv: dict[str, Any] = {
                "entity": kpi.entity,
                "calculation": kpi.calculation,
                "base_measure": self._base_measure(kpi, kpi.base_metric, [kpi.filter]),
                "conversion_measure": self._conversion_measure(kpi, kpi.conversion_metric),
            }
            if kpi.window:
                conv["window"] = kpi.window
            if kpi.constant_properties:
                conv["constant_properties"] = [dict(p) for p in kpi.constant_properties]
            out["type"] = "conversion"
            out["type_params"] = {"conversion_type_params": conv}
            meta["base_metric"] = kpi.base_metric.name
            meta["conversion_metric"] = kpi.conversion_metric.name
        else:
            raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): type {kind!r} has no MetricFlow mapping")
        if kpi.filter and kind not in ("conversion", "cumulative"):
            out["filter"] = self.filter_sql(kpi, kpi.filter, self.leaf_models(kpi))
        meta.update(_governance(kpi))
        out["config"] = {"meta": {"revalign": meta}}
        return out

    # -- dbt models ---------------------------------------------------------------------------------------------
    def _view_sql(self, name: str) -> str:
        """A revalign view (kpis/views.py) as a dbt model: Ibis compiles it, canonical tables become refs."""
        import ibis

        from revalign.model.tables import TABLES

        backend = {"spark": "pyspark"}.get(self.dialect, self.dialect)
        with contextlib.suppress(AttributeError, ImportError):  # loading a backend registers its options
            getattr(ibis, backend)
        expr = VIEWS[name](lambda t: ibis.table(TABLES[t].schema, name=t))
        tree = sqlglot.parse_one(ibis.to_sql(expr, dialect=backend), read=self.dialect)

        def ref(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.name in TABLES:
                return exp.Table(this=exp.to_identifier(f"revalign_table_{node.name}"), alias=node.args.get("alias"))
            return node

        sql = tree.transform(ref).sql(dialect=self.dialect, pretty=True)
        sql = re.sub(r"\brevalign_table_(\w+)\b", r"{{ ref('\1') }}", sql)
        header = f"-- Generated by revalign from its view `{name}` (src/revalign/kpis/views.py), for {self.dialect}."
        return f"{header}\n{sql}\n"

    def _sql_models(self) -> dict[str, str]:
        out = {TIME_SPINE: _time_spine_sql()}
        for table in dict.fromkeys(sm.table for sm in self.catalog.semantic_models.values()):
            if table in VIEWS:
                out[table] = self._view_sql(table)
        for sm in self.catalog.semantic_models.values():
            if sm.where:
                where = self.sql(sm.where, lambda n: exp.column(n))
                out[sm.name] = (
                    f"-- Generated by revalign: the rows of `{sm.table}` semantic model `{sm.name}` covers.\n"
                    f"select * from {{{{ ref('{sm.table}') }}}}\nwhere {where}\n"
                )
        for base_name, daily in self.snapshot_models.items():
            sm = self.catalog.semantic_model(base_name)
            vf, vt = sm.validity["valid_from"], sm.validity.get("valid_to")  # type: ignore[index]
            src = self.dbt_model(sm)
            cond = f"spine.date_day >= cast(t.{vf} as date)"
            if vt:
                cond += f"\n  and (t.{vt} is null or spine.date_day < cast(t.{vt} as date))"
                last = (
                    f"case when count(*) > count(t.{vt})\n"
                    f"      then greatest(max(cast(t.{vf} as date)), coalesce(max(cast(t.{vt} as date)), "
                    f"max(cast(t.{vf} as date))), current_date)\n"
                    f"      else greatest(max(cast(t.{vf} as date)), max(cast(t.{vt} as date))) end"
                )
            else:
                last = f"greatest(max(cast(t.{vf} as date)), current_date)"
            out[daily.name] = (
                f"-- Generated by revalign: one row per day each `{src}` row is valid, for snapshot KPIs.\n"
                f"-- {SNAPSHOT_DAY_END}: valid at the end of that day; {SNAPSHOT_DAY_START}: valid at its start "
                "(the end of the day before).\n"
                "-- Days run to the last validity date, or to today while rows are still open, as in revalign.\n"
                f"with bounds as (\n  select {last} as last_day\n  from {{{{ ref('{src}') }}}} as t\n)\n"
                "select\n  t.*,\n"
                f"  spine.date_day as {SNAPSHOT_DAY_END},\n"
                f"  cast({{{{ dbt.dateadd('day', 1, 'spine.date_day') }}}} as date) as {SNAPSHOT_DAY_START}\n"
                f"from {{{{ ref('{src}') }}}} as t\n"
                f"join {{{{ ref('{TIME_SPINE}') }}}} as spine\n  on {cond}\n"
                "cross join bounds\nwhere spine.date_day < bounds.last_day\n"
            )
        return out

    def _model_properties(self, sql: dict[str, str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {
                "name": TIME_SPINE,
                "description": "One row per day (MetricFlow's time spine; cumulative metrics and snapshots join it).",
                "time_spine": {"standard_granularity_column": "date_day"},
                "columns": [{"name": "date_day", "granularity": "day"}],
            }
        ]
        for name in sql:
            if name != TIME_SPINE:
                out.append({"name": name, "description": "Generated by revalign (see the SQL file's header)."})
        return out

    def run(self) -> MetricFlowProject:
        kpis = list(self.catalog.kpis.values())
        for kpi in kpis:  # snapshot KPIs create their daily models first: names are checked over every model
            if kpi.type == "snapshot":
                self._snapshot_model(kpi, self.catalog.semantic_model(kpi.semantic_model or ""))
        models = [*self.catalog.semantic_models.values(), *self.snapshot_models.values()]
        self._rename_clashes(models)
        for kpi in kpis:
            if kpi.type in ("simple", "percentile", "snapshot"):
                self._measure(kpi)
        metrics = [self.metric(k) for k in kpis]
        semantic_models = [self._semantic_model(sm) for sm in models]
        sql = self._sql_models()
        return MetricFlowProject(semantic_models, metrics, self._model_properties(sql), sql, self.dialect)


def _governance(kpi: Kpi) -> dict[str, Any]:
    """revalign's keys MetricFlow has no place for, as plain YAML values (dates as ISO text).

    Revisions keep their ``previous`` definition keys in revalign's own syntax (filters unresolved): they
    document history; MetricFlow has no notion of a dated definition.
    """
    data = kpi.model_dump(mode="json", include=set(GOVERNANCE_KEYS), exclude_defaults=True)
    return {k: data[k] for k in GOVERNANCE_KEYS if k in data}


def _period_agg(kpi: Kpi) -> str:
    """How revalign turns the running total into one value per period, said explicitly for MetricFlow.

    ``Kpi.cumulative_period_agg`` is what revalign evaluates: ``period_agg`` as written, or ``first`` (MetricFlow's
    default) when the key is absent. Writing it out keeps the export right if either default ever changes.
    """
    return str(kpi.cumulative_period_agg)


def _time_spine_sql() -> str:
    start, end = dt.date(2000, 1, 1), dt.date(2040, 1, 1)
    return (
        "-- Generated by revalign: MetricFlow's daily time spine.\n"
        "{{ config(materialized='table') }}\n"
        "select cast(date_day as date) as date_day\n"
        "from (\n"
        f"  {{{{ dbt.date_spine('day', \"cast('{start}' as date)\", \"cast('{end}' as date)\") }}}}\n"
        ") as spine\n"
    )


__all__ = ["FORMATS", "MetricFlowExportError", "MetricFlowProject", "export_metricflow", "to_metricflow"]
