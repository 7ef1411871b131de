"""⑤ Recalibration from sales feedback: which MQLs sales rejected, why, under which rules and bands, and what to change.

Sales accepts or rejects each MQL in the CRM; the ledger keeps it (lifecycle ``accepted`` / ``rejected`` with a
``reason``). Read against the scores:

- :func:`mql_decisions` — each MQL of a scored table with sales' latest decision (``accepted``, ``rejected`` or
  ``pending``), its reason and whether it became an opportunity;
- :func:`rejections_by_band` / :func:`rejections_by_rule` — rejection counts and rates per band and reason, and per
  rule (MQLs that earned points from the rule against those that did not);
- :func:`suggest_changes` — for each rule, the points scaled down and up, re-scored on the same data (a backtest:
  the same leads, the same outcomes), with the effect on MQL volume, on MQL→opportunity conversion and on how
  many of the rejected MQLs would still be MQLs. A change is ``suggested`` when it raises conversion and keeps at
  least ``keep_converted`` of the converting MQLs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.scoring.bands import with_conversion
from revalign.analytics.scoring.rules import RULE_PREFIX, as_of_moment, rule_columns, score_leads
from revalign.definitions.scoring import ScoringModel
from revalign.model.access import Tables

DECISIONS = ("accepted", "rejected")
FACTORS = (0.5, 1.5)
"""How much :func:`suggest_changes` scales each rule's points by (down and up)."""


def decisions(tables: Tables, as_of: dt.date | dt.datetime | None = None) -> ir.Table:
    """Sales' latest decision per lead (``__lead``, ``decision``, ``reason``, ``decided_at``), known by ``as_of``."""
    led = tables.table("ledger")
    ev = led.filter((led.entity_type == "lead") & (led.kind == "lifecycle") & led.name.isin(DECISIONS))
    if as_of is not None:
        ev = ev.filter(ev.recorded_at <= as_of_moment(as_of))
    w = ibis.window(group_by=ev.entity_id, order_by=[ibis.desc(ev.occurred_at), ibis.desc(ev.event_id)])
    ev = ev.mutate(__rank=ibis.row_number().over(w))
    ev = ev.filter(ev["__rank"] == 0)
    return ev.select(__lead=ev.entity_id, decision=ev.name, reason=ev.reason, decided_at=ev.occurred_at)


def mql_decisions(tables: Tables, scored: ir.Table, as_of: dt.date | dt.datetime | None = None) -> ir.Table:
    """The MQLs of ``scored`` with ``decision`` (accepted / rejected / pending), ``reason`` and ``converted``."""
    mqls = with_conversion(tables, scored.filter(scored.is_mql))
    dec = decisions(tables, as_of)
    j = mqls.left_join(dec, mqls.lead_id == dec["__lead"])
    return j.mutate(decision=j.decision.fill_null("pending")).drop("__lead")


def rejections_by_band(tables: Tables, scored: ir.Table) -> ir.Table:
    """Per band and reason: rejected MQLs; and per band the MQLs decided and the share rejected."""
    t = mql_decisions(tables, scored)
    decided = t.filter(t.decision != "pending")
    per_band = decided.group_by("band").aggregate(
        decided=decided.count(), rejected=(decided.decision == "rejected").cast("int64").sum()
    )
    rejected = t.filter(t.decision == "rejected")
    reasons = rejected.group_by(["band", "reason"]).aggregate(rejections=rejected.count())
    j = reasons.left_join(per_band, reasons.band == per_band.band)
    out = j.select(
        band=reasons.band,
        reason=reasons.reason.fill_null("unknown"),
        rejections=reasons.rejections,
        decided=j.decided,
        rejection_rate=j.rejected.cast("float64") / j.decided,
        reason_share=reasons.rejections.cast("float64") / j.rejected,
    )
    return out.order_by(["band", ibis.desc("rejections")])


def rejections_by_rule(tables: Tables, scored: ir.Table, model: ScoringModel) -> ir.Table:
    """Per rule: decided MQLs that earned points from it and their rejection and conversion rates, against the
    decided MQLs that did not (``lift`` > 1: the rule's MQLs are rejected more often than the others)."""
    t = mql_decisions(tables, scored)
    t = t.filter(t.decision != "pending")
    rejected = (t.decision == "rejected").cast("int64")
    parts = []
    for col in rule_columns(model):
        has = t[col] != 0
        parts.append(
            t.aggregate(
                rule=ibis.literal(col.removeprefix(RULE_PREFIX)),
                mqls_with=has.cast("int64").sum(),
                rejected_with=(rejected * has.cast("int64")).sum(),
                converted_with=(t.converted * has.cast("int64")).sum(),
                mqls_without=(~has).cast("int64").sum(),
                rejected_without=(rejected * (~has).cast("int64")).sum(),
            )
        )
    u = ibis.union(*parts)
    rate_with = u.rejected_with.cast("float64") / u.mqls_with.nullif(0)
    rate_without = u.rejected_without.cast("float64") / u.mqls_without.nullif(0)
    return u.mutate(
        rejection_rate_with=rate_with,
        rejection_rate_without=rate_without,
        conversion_rate_with=u.converted_with.cast("float64") / u.mqls_with.nullif(0),
        lift=rate_with / rate_without.nullif(0),
    )


def scaled(model: ScoringModel, rule: str, factor: float) -> ScoringModel:
    """``model`` with the points of ``rule`` multiplied by ``factor`` (every value of a fit rule)."""
    data = model.model_dump()
    for section in ("fit", "engagement", "negative"):
        for r in data[section]:
            if r["name"] != rule:
                continue
            pts = r["points"]
            r["points"] = {k: v * factor for k, v in pts.items()} if isinstance(pts, dict) else pts * factor
    return ScoringModel.model_validate(data)


def _outcome(tables: Tables, model: ScoringModel, as_of: dt.datetime, rejected_ids: ir.Table) -> dict[str, float]:
    """MQLs, converting MQLs and still-MQL rejected leads under ``model`` (one aggregate query)."""
    t = with_conversion(tables, score_leads(tables, model, as_of))
    j = t.left_join(rejected_ids, t.lead_id == rejected_ids["__lead"])
    mql = j.is_mql.cast("int64")
    agg = j.aggregate(
        mqls=mql.sum(),
        converted=(mql * j.converted).sum(),
        rejected_still=(mql * j["__lead"].notnull().cast("int64")).sum(),
    )
    row = tables.to_pandas(agg).iloc[0]
    return {k: float(row[k] or 0) for k in ("mqls", "converted", "rejected_still")}


def suggest_changes(
    tables: Tables,
    model: ScoringModel,
    as_of: dt.date | dt.datetime,
    *,
    factors: Sequence[float] = FACTORS,
    keep_converted: float = 0.95,
) -> pd.DataFrame:
    """Each rule's points scaled by each factor, backtested on the leads known at ``as_of`` (see module doc).

    Columns: ``rule``, ``factor``, ``mqls``, ``mql_change`` (relative), ``conversion_rate`` (converted / MQLs),
    ``conversion_change`` (points), ``converted_kept`` (share of today's converting MQLs still MQLs),
    ``rejected_still`` (share of sales' rejected MQLs still MQLs), ``suggested``. The first row is the model as is.
    """
    moment = as_of_moment(as_of)
    dec = decisions(tables, moment)
    rejected_ids = dec.filter(dec.decision == "rejected").select("__lead")
    base = _outcome(tables, model, moment, rejected_ids)
    rows = [{"rule": "(current)", "factor": 1.0, **base}]
    names = [c.removeprefix(RULE_PREFIX) for c in rule_columns(model)]
    for name in names:
        for f in factors:
            rows.append({"rule": name, "factor": f, **_outcome(tables, scaled(model, name, f), moment, rejected_ids)})
    out = pd.DataFrame(rows)
    rate = out["converted"] / out["mqls"].where(out["mqls"] > 0)
    base_rate = base["converted"] / base["mqls"] if base["mqls"] else float("nan")
    n_rejected = int(tables.execute(rejected_ids.count()))
    out = out.assign(
        mql_change=out["mqls"] / base["mqls"] - 1 if base["mqls"] else float("nan"),
        conversion_rate=rate,
        conversion_change=rate - base_rate,
        converted_kept=out["converted"] / base["converted"] if base["converted"] else float("nan"),
        rejected_still=out["rejected_still"] / n_rejected if n_rejected else float("nan"),
    )
    out["suggested"] = (out["conversion_change"] > 0) & (out["converted_kept"] >= keep_converted)
    return out[
        [
            "rule",
            "factor",
            "mqls",
            "mql_change",
            "converted",
            "conversion_rate",
            "conversion_change",
            "converted_kept",
            "rejected_still",
            "suggested",
        ]
    ]


__all__ = [
    "DECISIONS",
    "decisions",
    "mql_decisions",
    "rejections_by_band",
    "rejections_by_rule",
    "scaled",
    "suggest_changes",
]
