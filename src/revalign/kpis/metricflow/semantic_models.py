"""Semantic models and measures for MetricFlow: revalign's models as YAML, a measure per simple KPI, daily
copies of the models snapshot KPIs read, and the dbt SQL models those need."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from revalign.definitions.kpis.spec import Dimension, Entity, Kpi, Measure, SemanticModel
from revalign.kpis.metricflow.names import AGGS, SNAPSHOT_DAY_END, SNAPSHOT_DAY_START, TIME_SPINE, MetricFlowExportError
from revalign.kpis.metricflow.sql import Sql, snapshot_sql, time_spine_sql
from revalign.model.views import VIEWS


class SemanticModels(Sql):
    """The ``semantic_models:`` document, its measures, and the dbt models it reads."""

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

    def _declared_measure(self, sm: SemanticModel, m: Measure) -> dict[str, Any]:
        out: dict[str, Any] = {"name": m.name, "agg": AGGS[m.agg]}
        if m.description:
            out["description"] = m.description
        out["expr"] = self.sql(m.expr or m.name, lambda n: self._column_sql(sm, n))
        if m.agg_time_dimension:
            out["agg_time_dimension"] = m.agg_time_dimension
        return out

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

    def _sql_models(self) -> dict[str, str]:
        out = {TIME_SPINE: time_spine_sql()}
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
            validity = sm.validity or {}
            out[daily.name] = snapshot_sql(self.dbt_model(sm), validity["valid_from"], validity.get("valid_to"))
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
