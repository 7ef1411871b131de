"""Rules about names, types and the keys each KPI type needs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from revalign.definitions.issues import Issue
from revalign.definitions.kpis import expressions as filters
from revalign.definitions.kpis.contents import CatalogContents
from revalign.definitions.kpis.rules.base import Rule
from revalign.definitions.kpis.spec import AGGS, KPI_TYPES, PERIOD_AGGS, REAGGREGABLE_AGGS, Kpi
from revalign.definitions.kpis.windows import parse_window
from revalign.model.calendar import GRAINS

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
REQUIRED = {
    "simple": ("semantic_model",),
    "percentile": ("semantic_model", "expr", "percentile"),
    "snapshot": ("semantic_model",),
    "ratio": ("numerator", "denominator"),
    "derived": ("expr", "input_metrics"),
    "cumulative": ("input_metric",),
    "conversion": ("entity", "base_metric", "conversion_metric", "window"),
}


class UniqueNamesRule(Rule):
    """Names are unique within the catalog files that define them, and valid identifiers."""

    name = "unique_names"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        seen: dict[str, str | None] = {}
        for kind, item in catalog.duplicates:
            key = getattr(item, "name", getattr(item, "id", "?"))
            yield self.issue(item, f"{kind} {key!r} is defined more than once", kpi=key if kind == "KPI" else None)
        for kind, items in (("KPI", catalog.kpis.values()), ("semantic model", catalog.semantic_models.values())):
            for item in items:
                if not NAME.match(item.name):
                    yield self.issue(
                        item,
                        f"{kind} name {item.name!r} must be lower_snake_case (letters, digits, underscores)",
                        key="name",
                        kpi=item.name if kind == "KPI" else None,
                    )
                seen[item.name] = item.ctx.file


class TypeKeysRule(Rule):
    """Each KPI type has the keys it needs, a known aggregation, and a parsable window/percentile."""

    name = "type_keys"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for kpi in catalog.kpis.values():
            if kpi.type not in KPI_TYPES:
                yield self.issue(
                    kpi, f"type {kpi.type!r} is unknown; use one of {', '.join(KPI_TYPES)}", key="type", kpi=kpi.name
                )
                continue
            for key in REQUIRED[kpi.type]:
                if not getattr(kpi, key):
                    yield self.issue(kpi, f"a {kpi.type} KPI needs {key!r}", key="type", kpi=kpi.name)
            if kpi.type in ("simple", "percentile", "snapshot") and not kpi.measure:
                agg = kpi.agg or "count"
                if agg not in AGGS:
                    yield self.issue(
                        kpi, f"agg {agg!r} is unknown; use one of {', '.join(AGGS)}", key="agg", kpi=kpi.name
                    )
                elif agg not in ("count",) and not kpi.expr:
                    yield self.issue(
                        kpi, f"agg {agg!r} needs an expr (the column to aggregate)", key="agg", kpi=kpi.name
                    )
            if kpi.percentile is not None and not 0 < kpi.percentile < 1:
                yield self.issue(
                    kpi,
                    f"percentile must be between 0 and 1. Got {kpi.percentile} instead.",
                    key="percentile",
                    kpi=kpi.name,
                )
            if kpi.window:
                try:
                    n, unit = parse_window(kpi.window)
                except ValueError as exc:
                    yield self.issue(kpi, str(exc), key="window", kpi=kpi.name)
                else:
                    if n < 1:
                        yield self.issue(
                            kpi, f"window {kpi.window!r} must be at least one {unit}", key="window", kpi=kpi.name
                        )
            yield from self._cumulative_keys(kpi)

    def _cumulative_keys(self, kpi: Kpi) -> Iterator[Issue]:
        """MetricFlow's cumulative_type_params: window XOR grain_to_date, a known grain, a known period_agg."""
        if kpi.type != "cumulative":
            for key in ("grain_to_date", "period_agg"):
                if getattr(kpi, key):
                    yield self.issue(
                        kpi, f"{key} only applies to cumulative KPIs (this one is {kpi.type})", key=key, kpi=kpi.name
                    )
            return
        if kpi.window and kpi.grain_to_date:
            yield self.issue(
                kpi,
                "window and grain_to_date cannot be used together (as in MetricFlow): a cumulative KPI is a trailing "
                "window ('90 days'), a period to date (grain_to_date: month), or all-time (neither)",
                key="grain_to_date",
                kpi=kpi.name,
            )
        if kpi.grain_to_date and kpi.grain_to_date not in GRAINS:
            yield self.issue(
                kpi,
                f"grain_to_date must be one of {', '.join(GRAINS)}. Got {kpi.grain_to_date!r} instead.",
                key="grain_to_date",
                kpi=kpi.name,
            )
        if kpi.period_agg and kpi.period_agg not in PERIOD_AGGS:
            yield self.issue(
                kpi,
                f"period_agg must be one of {', '.join(PERIOD_AGGS)} (the day of each period whose total it shows; "
                f"default first). Got {kpi.period_agg!r} instead.",
                key="period_agg",
                kpi=kpi.name,
            )


class CumulativeInputRule(Rule):
    """A running total only makes sense over an additive input (a sum or a count)."""

    name = "cumulative_input"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for kpi in catalog.kpis.values():
            if kpi.type != "cumulative" or kpi.input_metric is None:
                continue
            inner = catalog.kpis.get(kpi.input_metric.name)
            if inner is not None and not (inner.type == "simple" and (inner.agg or "count") in REAGGREGABLE_AGGS):
                yield self.issue(
                    kpi,
                    f"cumulative input {inner.name!r} is not a sum or count ({inner.type}, agg {inner.agg}); "
                    "running totals of ratios or distinct counts are wrong",
                    key="input_metric",
                    kpi=kpi.name,
                )


class ExpressionRule(Rule):
    """Filters and expressions parse and stay inside the whitelist (never raw SQL)."""

    name = "expressions"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for kpi in catalog.kpis.values():
            for key, text in _texts(kpi):
                try:
                    filters.parse(text)
                except filters.ExpressionError as exc:
                    yield self.issue(kpi, f"{key}: {exc}", key=key.split(".")[0], kpi=kpi.name)
        for sm in catalog.semantic_models.values():
            texts: list[tuple[str, str | None]] = [("where", sm.where)]
            for label, expr in texts + [(f"dimension {d.name}", d.expr) for d in sm.dimensions]:
                if expr:
                    try:
                        filters.parse(expr)
                    except filters.ExpressionError as exc:
                        yield self.issue(sm, f"semantic model {sm.name!r} {label}: {exc}", key="where")


def _texts(kpi: Kpi) -> list[tuple[str, str]]:
    out = [(k, getattr(kpi, k)) for k in ("filter", "expr") if getattr(kpi, k)]
    for inp in kpi.inputs:
        if inp.filter:
            out.append((f"filter of input {inp.name}", inp.filter))
    return out
