"""Conversion KPIs: the share (or number) of base events followed by a conversion event of the same entity.

Each base event converts if a conversion event for the same entity (and the same constant properties) happens
at or after it and within ``window``; a base event counts once however many conversions follow it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from revalign.definitions.kpis.spec import Kpi
from revalign.definitions.kpis.windows import parse_window
from revalign.errors import CatalogError
from revalign.kpis.frames import Frame, Frames, group_by_period
from revalign.kpis.request import Request
from revalign.kpis.windows import add_window

Properties = list[tuple[str, str]]
"""A conversion KPI's constant properties: (base property, conversion property) pairs that must match."""


def conversion_events(conv_fr: Frame, conv_time: str, entity: str, props: Properties) -> ir.Table:
    """The conversion events, once each: entity ``__ce``, time ``__ct`` and properties ``__cp0…``."""
    c = conv_fr.table
    return c.select(
        __ce=c[conv_fr.columns[entity]].cast("string"),
        __ct=c[conv_fr.columns[conv_time]].cast("timestamp"),
        **{f"__cp{i}": c[conv_fr.columns[cp]].cast("string") for i, (_, cp) in enumerate(props)},
    ).distinct()


def converted_flags(base: ir.Table, conv: ir.Table, kpi: Kpi, n_props: int) -> ir.Table:
    """``base`` (``__e``, ``__t``, ``__p0…`` and whatever else it carries) with ``__converted``: 1 when a conversion
    event of the same entity and properties follows at or after ``__t`` within the window.

    The one statement of the rule: the KPI (:func:`conversion_table`) and its drill-down
    (:meth:`revalign.kpis.rows.RowBuilder.converted`) both call it, so a drilled row is flagged as it was counted.
    """
    preds = [base["__e"] == conv["__ce"], conv["__ct"] >= base["__t"]]
    if kpi.window:
        n, unit = parse_window(kpi.window)
        preds.append(conv["__ct"] <= add_window(base["__t"], n, unit))
    preds += [base[f"__p{i}"] == conv[f"__cp{i}"] for i in range(n_props)]
    joined = base.left_join(conv, preds)
    return joined.group_by(list(base.columns)).aggregate(__converted=ibis.ifelse(joined["__ct"].notnull(), 1, 0).max())


def conversion_table(frames: Frames, kpi: Kpi, req: Request, extra: str | None) -> ir.Table:
    """(period_start, <by…>, value) for a conversion KPI, periods by the base event's time."""
    if kpi.base_metric is None or kpi.conversion_metric is None:
        raise CatalogError(f"KPI {kpi.name!r}: conversion needs base_metric and conversion_metric")
    base_kpi = frames.catalog.get(kpi.base_metric.name)
    conv_kpi = frames.catalog.get(kpi.conversion_metric.name)
    entity = kpi.entity or ""
    props = [(p.get("base_property", ""), p.get("conversion_property", "")) for p in kpi.constant_properties]
    base_fr, base_time = frames.rows(
        base_kpi,
        req,
        " and ".join(f"({c})" for c in (kpi.base_metric.filter, extra, kpi.filter) if c) or None,
        [entity, *[b for b, _ in props]],
    )
    conv_req = Request(grain=req.grain, fiscal_year_start_month=req.fiscal_year_start_month)
    conv_fr, conv_time = frames.rows(conv_kpi, conv_req, kpi.conversion_metric.filter, [entity, *[c for _, c in props]])
    b = base_fr.table
    base = b.select(
        __e=b[base_fr.columns[entity]].cast("string"),
        __t=b[base_fr.columns[base_time]].cast("timestamp"),
        **{f"__p{i}": b[base_fr.columns[bp]].cast("string") for i, (bp, _) in enumerate(props)},
        **{f"__d_{d}": b[base_fr.columns[d]] for d in req.by},
    ).distinct()
    per_event = converted_flags(base, conversion_events(conv_fr, conv_time, entity, props), kpi, len(props))
    fr = Frame(per_event, {d: f"__d_{d}" for d in req.by})
    t, keys = group_by_period(per_event, fr, "__t", req)
    out = t.group_by(keys).aggregate(__n=t.count(), __c=t["__converted"].sum())
    if kpi.calculation == "conversions":
        return out.select(*keys, value=out["__c"].cast("float64"))
    return out.select(*keys, value=out["__c"].cast("float64") / out["__n"].cast("float64"))
