"""The KPI catalog as typed data: semantic models over canonical tables, and KPIs over semantic models.

The shape follows dbt MetricFlow's latest spec where the concept is the same (semantic models with entities,
dimensions and time dimensions; metrics of type simple, ratio, derived, cumulative and conversion with flat,
type-specific keys) and adds revalign's governance keys: owner, department, direction, timing, unit, the
north-star tree, targets and dated revisions. Every node remembers the file and line it came from
(``ctx``), so validation messages can point at it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from revalign.errors import FileContext

KPI_TYPES = ("simple", "ratio", "derived", "cumulative", "conversion", "percentile", "snapshot")
AGGS = ("sum", "count", "count_distinct", "avg", "min", "max", "median", "percentile", "sum_boolean")
DIRECTIONS = ("higher_is_better", "lower_is_better", "target_is_best")
TIMINGS = ("leading", "lagging")
UNITS = ("count", "currency", "percent", "ratio", "days", "hours", "months", "currency_per_day", "score", "people")
PROPORTION_UNITS = ("percent",)
REAGGREGABLE_AGGS = ("sum", "count", "sum_boolean")
"""Aggregates that can be re-aggregated: values over days or sub-windows add up to the value over the whole window,
so a cumulative KPI may sum them. ``count_distinct`` is not among them (a lead seen on two days is one lead)."""
ADDITIVE_TARGET_AGGS = ("sum", "count", "count_distinct", "sum_boolean")
"""Aggregates that make a KPI's *target* additive: the KPI is a total (a count or a sum) over its slices and periods,
so a company-wide target is not also each slice's target, slice targets should add up to the company target, and
a yearly total can be phased over quarters. ``count_distinct`` belongs here (each record sits in one slice) but
not in :data:`REAGGREGABLE_AGGS`."""
PERIOD_AGGS = ("first", "last", "average")
"""How a cumulative KPI's daily values become one value per coarser period (MetricFlow's ``period_agg``)."""
STANDARD_DIMENSIONS = ("channel", "campaign", "segment", "region", "team", "owner")
"""The dimensions every KPI should be sliceable by, where its semantic model can reach them."""
Sensitivity = Literal["pay"]
"""What a ``sensitivity`` key may say. ``pay``: compensation data (quotas, attainment, payouts, comp plans), shown
only to the person, their managers and pay-data roles (:mod:`revalign.analytics.privacy` enforces it)."""
SENSITIVITIES: tuple[str, ...] = ("pay",)


class Node(BaseModel):
    """Base of every spec node: strict keys, and the file/line it was read from."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)
    _ctx: FileContext = PrivateAttr(default_factory=FileContext)
    _key_lines: dict[str, int] = PrivateAttr(default_factory=dict)

    @property
    def ctx(self) -> FileContext:
        return self._ctx

    def line_of(self, key: str | None = None) -> int | None:
        """The line of ``key`` in this node's YAML (the node's own line when the key is absent)."""
        return self._key_lines.get(key, self._ctx.line) if key else self._ctx.line

    def with_ctx(self, ctx: FileContext) -> Node:
        self._ctx = ctx
        return self


# -- semantic models ----------------------------------------------------------------------------------------------


class Entity(Node):
    """A join key. ``primary`` entities identify a row; ``foreign`` ones point at another model's primary."""

    name: str
    type: Literal["primary", "unique", "foreign", "natural"] = "foreign"
    expr: str | None = None  # the column; defaults to the name

    @property
    def column(self) -> str:
        return self.expr or self.name


class Dimension(Node):
    """A column to group or filter by. ``expr`` is a column or a whitelisted expression (see filters.py)."""

    name: str
    type: Literal["categorical", "time"] = "categorical"
    expr: str | None = None
    description: str | None = None
    granularity: str | None = None  # time dimensions: the finest grain stored

    @property
    def column(self) -> str:
        return self.expr or self.name


class Measure(Node):
    """A reusable aggregation (MetricFlow measures); simple KPIs may also carry agg/expr themselves."""

    name: str
    agg: str
    expr: str | None = None
    description: str | None = None
    agg_time_dimension: str | None = None


class SemanticModel(Node):
    """A canonical table (or a derived view from kpis/views.py) described for querying."""

    name: str
    description: str = ""
    table: str
    where: str | None = Field(None, description="revalign extension: rows of the table this model covers")
    agg_time_dimension: str | None = None
    entities: list[Entity] = Field(default_factory=list)
    dimensions: list[Dimension] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    validity: dict[str, str] | None = Field(
        None, description="revalign extension for snapshots: {valid_from: col, valid_to: col}"
    )
    sensitivity: Sensitivity | None = Field(
        None, description="revalign extension: ``pay`` when the rows are compensation data (every KPI over it is)"
    )

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities if e.name == name), None)

    @property
    def primary_entities(self) -> list[Entity]:
        return [e for e in self.entities if e.type in ("primary", "unique", "natural")]


# -- KPIs ---------------------------------------------------------------------------------------------------------


class Target(Node):
    """A target for one period (``2026-Q1``, ``2026-03``, ``2026``), optionally for one slice (``segment: smb``)."""

    model_config = ConfigDict(extra="allow")
    period: str
    value: float

    @field_validator("period", mode="before")
    @classmethod
    def _period_text(cls, v: Any) -> str:
        return str(v)

    @property
    def dims(self) -> dict[str, str]:
        return {k: str(v) for k, v in (self.model_extra or {}).items() if k != "dims"} | {
            k: str(v) for k, v in ((self.model_extra or {}).get("dims") or {}).items()
        }


class Revision(Node):
    """A dated change of definition. The KPI's top-level keys are the CURRENT definition; ``previous`` holds
    the keys as they were before ``effective_from``, so past periods can be shown under the old definition."""

    effective_from: dt.date
    note: str = ""
    previous: dict[str, Any] = Field(default_factory=dict)


class MetricInput(Node):
    """An input of a ratio or derived KPI: a KPI name, optionally filtered and aliased."""

    name: str
    filter: str | None = None
    alias: str | None = None
    offset_window: str | None = None

    @property
    def ref(self) -> str:
        return self.alias or self.name


class Kpi(Node):
    """One KPI: a definition plus the governance keys that make it a shared, owned number."""

    name: str
    type: str
    label: str = ""
    description: str = ""
    # simple / percentile / snapshot
    semantic_model: str | None = None
    measure: str | None = None
    agg: str | None = None
    expr: str | None = None
    percentile: float | None = None
    agg_time_dimension: str | None = None
    filter: str | None = None
    # ratio
    numerator: MetricInput | None = None
    denominator: MetricInput | None = None
    # derived
    input_metrics: list[MetricInput] = Field(default_factory=list)
    # cumulative (and ``window`` for conversion): MetricFlow's flat keys; ``period_agg`` defaults to first
    input_metric: MetricInput | None = None
    window: str | None = None
    grain_to_date: str | None = None
    period_agg: str | None = None
    # conversion
    entity: str | None = None
    base_metric: MetricInput | None = None
    conversion_metric: MetricInput | None = None
    calculation: Literal["conversion_rate", "conversions"] = "conversion_rate"
    constant_properties: list[dict[str, str]] = Field(default_factory=list)
    # snapshot
    at: Literal["period_start", "period_end"] = "period_start"
    # governance
    unit: str | None = None
    format: str | None = None
    owner: str | None = None
    department: str | None = None
    direction: str | None = None
    timing: str | None = None
    north_star: bool = False
    parent: str | None = None
    relation: str | None = None
    range: tuple[float | None, float | None] | None = None
    targets: list[Target] = Field(default_factory=list)
    revisions: list[Revision] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    sensitivity: Sensitivity | None = None  # ``pay``: compensation data (inherited by KPIs computed from it)
    pack: str | None = None  # the catalog file (marketing, sales, …) it came from

    @model_validator(mode="before")
    @classmethod
    def _cumulative_type_params(cls, data: Any) -> Any:
        """MetricFlow 1.x nested ``cumulative_type_params: {window, grain_to_date, period_agg}``: read it flat."""
        if isinstance(data, dict) and isinstance(data.get("cumulative_type_params"), dict):
            nested = data["cumulative_type_params"]
            data = {k: v for k, v in data.items() if k != "cumulative_type_params"} | dict(nested)
        return data

    @property
    def cumulative_period_agg(self) -> str:
        """``period_agg`` as evaluated: MetricFlow's default is ``first``."""
        return self.period_agg or "first"

    @field_validator("numerator", "denominator", "input_metric", "base_metric", "conversion_metric", mode="before")
    @classmethod
    def _input(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    @field_validator("input_metrics", mode="before")
    @classmethod
    def _inputs(cls, v: Any) -> Any:
        return [{"name": x} if isinstance(x, str) else x for x in (v or [])]

    @model_validator(mode="after")
    def _defaults(self) -> Kpi:
        if not self.label:
            self.label = self.name.replace("_", " ").capitalize()
        return self

    # -- convenient views -------------------------------------------------------------------------------------
    @property
    def inputs(self) -> list[MetricInput]:
        """Every KPI this one is computed from (ratio, derived, cumulative and conversion inputs)."""
        out = [self.numerator, self.denominator, self.input_metric, self.base_metric, self.conversion_metric]
        return [i for i in out if i is not None] + list(self.input_metrics)

    @property
    def value_range(self) -> tuple[float | None, float | None]:
        """Allowed values: explicit ``range``, else implied by the unit (percent: 0..1, counts: >= 0)."""
        if self.range is not None:
            return self.range
        if self.unit in PROPORTION_UNITS:
            return (0.0, 1.0)
        if self.unit in ("count", "people", "days", "hours"):
            return (0.0, None)
        return (None, None)

    def definition_at(self, day: dt.date | None) -> Kpi:
        """This KPI as defined for a period starting on ``day`` (None: the current definition)."""
        if day is None or not self.revisions:
            return self
        changes: dict[str, Any] = {}
        for rev in sorted(self.revisions, key=lambda r: r.effective_from, reverse=True):
            if day < rev.effective_from:
                changes.update(rev.previous)
        if not changes:
            return self
        data = self.model_dump(exclude={"revisions"}) | changes
        out = Kpi.model_validate(data)
        out._ctx, out._key_lines = self._ctx, self._key_lines
        return out

    def revision_boundaries(self) -> list[dt.date]:
        return sorted(r.effective_from for r in self.revisions if r.previous)


class Person(Node):
    """An owner: a person or a role, from people.yaml."""

    id: str
    name: str = ""
    role: str = ""
    department: str | None = None
    email: str | None = None


class ScorecardSection(Node):
    name: str
    description: str = ""
    kpis: list[str] = Field(default_factory=list)


class ScorecardTemplate(Node):
    """A configurable scorecard template: sections of KPIs (e.g. IDC's Customer Creation Scorecard).

    Not to be confused with the analytic result, :class:`revalign.analytics.governance.scorecard.Scorecard`.
    """

    name: str
    label: str = ""
    description: str = ""
    sections: list[ScorecardSection] = Field(default_factory=list)


__all__ = [
    "ADDITIVE_TARGET_AGGS",
    "AGGS",
    "DIRECTIONS",
    "KPI_TYPES",
    "PERIOD_AGGS",
    "REAGGREGABLE_AGGS",
    "SENSITIVITIES",
    "STANDARD_DIMENSIONS",
    "TIMINGS",
    "UNITS",
    "Dimension",
    "Entity",
    "Kpi",
    "Measure",
    "MetricInput",
    "Person",
    "Revision",
    "ScorecardSection",
    "ScorecardTemplate",
    "SemanticModel",
    "Sensitivity",
    "Target",
]
