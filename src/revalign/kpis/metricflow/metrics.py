"""Metrics for MetricFlow: one metric per KPI, with inputs, filters and governance carried over."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlglot import exp

from revalign.definitions.kpis.spec import Kpi, MetricInput, SemanticModel
from revalign.kpis.metricflow.names import ADDITIVE, GOVERNANCE_KEYS, MetricFlowExportError
from revalign.kpis.metricflow.semantic_models import SemanticModels


class Metrics(SemanticModels):
    """The ``metrics:`` document."""

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
        """The MetricFlow metric of ``kpi``; keys MetricFlow has no place for go to ``config.meta.revalign``."""
        out: dict[str, Any] = {"name": self.metric_name(kpi.name), "label": kpi.label}
        if kpi.description:
            out["description"] = " ".join(kpi.description.split())
        meta: dict[str, Any] = {"name": kpi.name} if out["name"] != kpi.name else {}
        kind = kpi.type
        if kind in ("simple", "percentile", "snapshot"):
            self._simple_params(kpi, out, meta)
        elif kind == "ratio":
            if kpi.numerator is None or kpi.denominator is None:
                raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): ratio needs numerator and denominator")
            out["type"] = "ratio"
            out["type_params"] = {
                "numerator": self._metric_input(kpi, kpi.numerator),
                "denominator": self._metric_input(kpi, kpi.denominator),
            }
        elif kind == "derived":
            out["type"] = "derived"
            out["type_params"] = {
                "expr": self.sql(kpi.expr or "", lambda n: exp.column(self.metric_name(n))),
                "metrics": [self._metric_input(kpi, i) for i in kpi.input_metrics],
            }
        elif kind == "cumulative":
            self._cumulative_params(kpi, out, meta)
        elif kind == "conversion":
            self._conversion_params(kpi, out, meta)
        else:
            raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): type {kind!r} has no MetricFlow mapping")
        if kpi.filter and kind not in ("conversion", "cumulative"):
            out["filter"] = self.filter_sql(kpi, kpi.filter, self.leaf_models(kpi))
        meta.update(_governance(kpi))
        out["config"] = {"meta": {"revalign": meta}}
        return out

    def _simple_params(self, kpi: Kpi, out: dict[str, Any], meta: dict[str, Any]) -> None:
        """A simple, percentile or snapshot KPI: a simple metric over the KPI's measure."""
        out["type"] = "simple"
        measure = self.measure_of[kpi.name][0]
        # revalign counts a missing period of an additive input of a ratio or derived KPI as 0; MetricFlow
        # does the same with fill_nulls_with (a metric queried alone still has no row for an empty period)
        out["type_params"] = {"measure": {"name": measure, "fill_nulls_with": 0} if self._additive(kpi) else measure}
        if kpi.type != "simple":
            meta["type"] = kpi.type
        if kpi.type == "snapshot":
            meta["at"] = kpi.at

    def _cumulative_params(self, kpi: Kpi, out: dict[str, Any], meta: dict[str, Any]) -> None:
        if kpi.input_metric is None:
            raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): cumulative needs input_metric")
        params: dict[str, Any] = {}
        if kpi.window:
            params["window"] = kpi.window
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

    def _conversion_params(self, kpi: Kpi, out: dict[str, Any], meta: dict[str, Any]) -> None:
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
