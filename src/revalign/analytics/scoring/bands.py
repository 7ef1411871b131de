"""⑤ What the bands mean in outcomes: how leads spread over scores and bands, and how each band converts.

A band is worth its name only if higher bands convert better. :func:`band_conversion` counts, per band, the leads,
the MQLs and the leads that became an opportunity (an opportunity whose ``lead_id`` is the lead's), so the
scoring page can show bands against conversion and a recalibration can be judged by it. Both functions take a
scored table (:func:`~revalign.analytics.scoring.rules.score_leads`, or rows of ``scores``) and return small
aggregated Ibis tables.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from revalign.model.access import Tables


def converted_leads(tables: Tables) -> ir.Table:
    """``lead_id`` of every lead that became an opportunity (once each)."""
    opps = tables.table("opportunities")
    return opps.filter(opps.lead_id.notnull()).select(__conv_lead=opps.lead_id).distinct()


def with_conversion(tables: Tables, scored: ir.Table) -> ir.Table:
    """``scored`` plus ``converted`` (1 when the lead became an opportunity, else 0)."""
    conv = converted_leads(tables)
    joined = scored.left_join(conv, scored.lead_id == conv["__conv_lead"])
    return joined.mutate(converted=ibis.ifelse(joined["__conv_lead"].notnull(), 1, 0)).drop("__conv_lead")


def band_conversion(tables: Tables, scored: ir.Table) -> ir.Table:
    """Per band: ``leads``, ``mqls``, ``converted`` and ``conversion_rate`` (converted / leads)."""
    t = with_conversion(tables, scored)
    agg = t.group_by("band").aggregate(
        leads=t.count(),
        mqls=t.is_mql.cast("int64").sum(),
        converted=t.converted.sum(),
        min_score=t.score.min(),
    )
    return agg.mutate(conversion_rate=agg.converted.cast("float64") / agg.leads).order_by(ibis.desc("min_score"))


def score_distribution(scored: ir.Table, width: float = 10.0) -> ir.Table:
    """Leads per score bucket of ``width`` points: ``bucket`` (its lower edge) and ``leads``."""
    bucket = (scored.score / width).floor().cast("float64") * width
    t = scored.mutate(bucket=bucket)
    return t.group_by("bucket").aggregate(leads=t.count()).order_by("bucket")


__all__ = ["band_conversion", "converted_leads", "score_distribution", "with_conversion"]
