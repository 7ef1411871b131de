"""Rules about references: semantic models, tables, columns, dimensions and input KPIs all exist."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from revalign.definitions.issues import Issue
from revalign.definitions.kpis import expressions as filters
from revalign.definitions.kpis.contents import CatalogContents
from revalign.definitions.kpis.rules.base import Rule
from revalign.definitions.kpis.semantic_graph import SemanticGraph
from revalign.definitions.kpis.spec import Kpi, SemanticModel
from revalign.errors import UnknownNameError
from revalign.model.tables import TABLES
from revalign.model.views import VIEWS, table_columns


class SemanticModelRule(Rule):
    """Each semantic model names a known table, and its entities, dimensions and filters use its columns."""

    name = "semantic_models"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for sm in catalog.semantic_models.values():
            cols = table_columns(sm.table)
            if cols is None:
                yield self.issue(
                    sm,
                    f"semantic model {sm.name!r}: table {sm.table!r} is not a canonical table or view; known: "
                    f"{', '.join(sorted([*TABLES, *VIEWS]))}",
                    key="table",
                )
                continue
            for node, what, text in (
                *[(e, f"entity {e.name!r}", e.column) for e in sm.entities],
                *[(d, f"dimension {d.name!r}", d.column) for d in sm.dimensions],
            ):
                try:
                    refs = filters.references(text)
                except filters.ExpressionError:
                    continue  # reported by the expressions rule
                for ref in refs:
                    if ref not in cols:
                        yield self.issue(
                            node,
                            f"semantic model {sm.name!r}, {what}: unknown column {ref!r} of {sm.table!r} "
                            f"(columns: {', '.join(sorted(cols))})",
                        )
            for key in ("agg_time_dimension",):
                value = getattr(sm, key)
                if value and sm.dimension(value) is None and value not in cols:
                    yield self.issue(sm, f"semantic model {sm.name!r}: {key} {value!r} is not a dimension", key=key)


class KpiReferenceRule(Rule):
    """Every KPI's semantic model, input KPIs, and the names used in its filter/expr resolve."""

    name = "references"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        graph = SemanticGraph(catalog.semantic_models, catalog.kpis)
        for kpi in catalog.kpis.values():
            yield from self._inputs(catalog, kpi)
            if not kpi.semantic_model:
                continue
            sm = catalog.semantic_models.get(kpi.semantic_model)
            if sm is None:
                err = UnknownNameError("semantic model", kpi.semantic_model, catalog.semantic_models)
                yield self.issue(kpi, str(err), key="semantic_model", kpi=kpi.name)
                continue
            if table_columns(sm.table) is not None:
                yield from self._names(graph, kpi, sm)

    def _inputs(self, catalog: CatalogContents, kpi: Kpi) -> Iterator[Issue]:
        """Input KPIs exist, and a derived KPI's expr uses only its declared inputs."""
        for inp in kpi.inputs:
            if inp.name not in catalog.kpis:
                err = UnknownNameError("KPI", inp.name, catalog.kpis)
                yield self.issue(kpi, f"input {err}", key=_input_key(kpi, inp.name), kpi=kpi.name)
        if kpi.type != "derived":
            return
        known = {i.ref for i in kpi.input_metrics}
        try:
            used = filters.references(kpi.expr or "")
        except filters.ExpressionError:
            used = []
        for ref in used:
            if ref not in known:
                yield self.issue(
                    kpi,
                    f"expr uses {ref!r}, which is not one of its input_metrics ({', '.join(sorted(known))})",
                    key="expr",
                    kpi=kpi.name,
                )

    def _names(self, graph: SemanticGraph, kpi: Kpi, sm: SemanticModel) -> Iterator[Issue]:
        """Every name in the KPI's filter, expr and time dimension resolves from its semantic model."""
        names: list[tuple[str, str]] = []
        for key, text in (("filter", kpi.filter), ("expr", kpi.expr)):
            if text:
                with contextlib.suppress(filters.ExpressionError):
                    names += [(key, r) for r in filters.references(text)]
        if kpi.agg_time_dimension:
            names.append(("agg_time_dimension", kpi.agg_time_dimension))
        elif kpi.type != "snapshot" and not sm.agg_time_dimension:
            yield self.issue(
                kpi, f"semantic model {sm.name!r} has no agg_time_dimension; set one on the KPI", kpi=kpi.name
            )
        for key, name in names:
            try:
                found = graph.route(sm, name)
            except Exception:  # a broken neighbouring model: reported by its own rule
                found = None
            if found is None:
                reach = ", ".join(graph.reachable(sm)[:25])
                yield self.issue(
                    kpi,
                    f"{key}: unknown column or dimension {name!r} for semantic model {sm.name!r} "
                    f"(reachable dimensions: {reach}; raw columns of {sm.table!r} are allowed too)",
                    key=key,
                    kpi=kpi.name,
                )


def _input_key(kpi: Kpi, name: str) -> str:
    for key in ("numerator", "denominator", "input_metric", "base_metric", "conversion_metric"):
        inp = getattr(kpi, key)
        if inp is not None and inp.name == name:
            return key
    return "input_metrics"


class ConversionEntityRule(Rule):
    """A conversion's entity exists in the semantic models of both its base and conversion KPIs."""

    name = "conversion_entity"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for kpi in catalog.kpis.values():
            if kpi.type != "conversion" or not kpi.entity:
                continue
            for key in ("base_metric", "conversion_metric"):
                inp = getattr(kpi, key)
                inner = catalog.kpis.get(inp.name) if inp else None
                sm = catalog.semantic_models.get(inner.semantic_model or "") if inner else None
                if sm is None:
                    continue
                if sm.entity(kpi.entity) is None:
                    yield self.issue(
                        kpi,
                        f"entity {kpi.entity!r} is not an entity of {sm.name!r} (the model of {key} {inp.name!r}); "
                        f"its entities: {', '.join(e.name for e in sm.entities)}",
                        key="entity",
                        kpi=kpi.name,
                    )


class ScorecardRule(Rule):
    """Scorecard templates only list KPIs of the catalog."""

    name = "scorecards"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for card in catalog.scorecards.values():
            for section in card.sections:
                for name in section.kpis:
                    if name not in catalog.kpis:
                        err = UnknownNameError("KPI", name, catalog.kpis)
                        yield self.issue(section, f"scorecard {card.name!r}, section {section.name!r}: {err}")
