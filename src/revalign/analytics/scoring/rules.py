"""⑤ Rule-based lead scores as of any time: the agreed points, computed as Ibis expressions on the engine.

A score as of ``as_of`` uses only what was known then (:func:`revalign.model.ledger.as_of_tables`): leads created
by then with their fields as known then, touches that occurred by then, and lifecycle events recorded by then.
For a model with ``touches_until: mql``, touches from the moment the lead became an MQL on are not marketing
engagement (the SDR's call, sales meetings, nurture after the hand-off) and do not count.

For each lead::

    w(t)           = 0.5 ** (age_days(t) / half_life_days)      (1 without a half-life)
    rule r (touch) = Σ_t∈match(r) points_r · w(t)                (per: touch)
                   = max_t∈match(r) points_r · w(t)              (per: lead: once, at the most recent touch)
    rule r (fit)   = points_r[lead.field]                        (0 for a value the rule does not list)
    group g        = min(Σ_r∈g rule r, cap_g)   or   max(Σ_r∈g rule r, −cap_g) for a group of negative rules
    score          = Σ_g group g;  band = the highest cut point reached;  MQL = score ≥ mql_threshold

The result keeps one column per rule (``rule__<name>``), so :func:`explain` and the feedback analysis can say
which rule gave a lead its points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from revalign.definitions.scoring import ScoringModel
from revalign.model.access import Tables
from revalign.model.ledger import LEAD_FIELDS, TableProvider, as_of_tables

RULE_PREFIX = "rule__"
REBUILT_FIELDS = frozenset({*LEAD_FIELDS, "lifecycle_stage"})
"""Leads columns whose value as of a past moment is rebuilt from the ledger (the others never change there)."""
SECONDS_PER_DAY = 86_400.0


def as_of_moment(as_of: dt.date | dt.datetime) -> dt.datetime:
    """A date means its end (23:59:59.999999): everything that happened that day is known."""
    if isinstance(as_of, dt.datetime):
        return as_of
    return dt.datetime.combine(as_of, dt.time(23, 59, 59, 999999))


def _matches(t: ir.Table, match: Mapping[str, list[str]]) -> ir.BooleanValue:
    cond: ir.BooleanValue = ibis.literal(True)
    for column, values in match.items():
        cond = cond & t[column].isin(values)
    return cond


def _touches(provide: TableProvider, model: ScoringModel, moment: dt.datetime) -> ir.Table:
    """The touches that count: occurred by ``moment`` and, with ``touches_until``, before the lead reached it."""
    touches = provide("touchpoints")
    touches = touches.filter(touches.occurred_at <= moment)
    if model.touches_until is None:
        return touches
    ledger = provide("ledger")
    stage = ledger.filter(
        (ledger.entity_type == "lead")
        & (ledger.kind == "lifecycle")
        & (ledger.name == model.touches_until)
        & (ledger.occurred_at <= moment)
    )
    cutoff = stage.group_by(__lead=stage.entity_id).aggregate(__cutoff=stage.occurred_at.min())
    joined = touches.left_join(cutoff, touches.lead_id == cutoff["__lead"])
    kept = joined.filter(joined["__cutoff"].isnull() | (joined.occurred_at < joined["__cutoff"]))
    return kept.select(*touches.columns)


def _touch_points(touches: ir.Table, model: ScoringModel, moment: dt.datetime) -> ir.Table | None:
    """Per lead, the points of every touch rule (one column each), or None for a model without touch rules."""
    rules = model.touch_rules()
    if not rules:
        return None
    if model.half_life_days is None:
        weight: ir.FloatingValue = ibis.literal(1.0)
    else:
        now = ibis.literal(moment.replace(tzinfo=None), "timestamp").epoch_seconds().cast("float64")
        age = (now - touches.occurred_at.epoch_seconds().cast("float64")) / SECONDS_PER_DAY
        weight = ibis.literal(0.5) ** (age / model.half_life_days)
    touches = touches.mutate(
        **{
            f"__{i}": ibis.ifelse(_matches(touches, m), ibis.literal(p) * weight, ibis.literal(0.0))
            for i, (_, _, m, p, _) in enumerate(rules)
        }
    )
    named = {}
    for i, (name, _group, _m, points, per) in enumerate(rules):
        c = touches[f"__{i}"]
        named[RULE_PREFIX + name] = (c.max() if points >= 0 else c.min()) if per == "lead" else c.sum()
    return touches.group_by(__lead=touches.lead_id).aggregate(**named)


def rule_points(tables: Tables | TableProvider, model: ScoringModel, as_of: dt.date | dt.datetime) -> ir.Table:
    """One row per lead known at ``as_of``: ``lead_id`` and the points of each rule (``rule__<name>``)."""
    moment = as_of_moment(as_of)
    base = tables.table if isinstance(tables, Tables) else tables
    provide = as_of_tables(base, moment)
    if any(field in REBUILT_FIELDS for _n, _g, field, _p in model.fit_rules()):
        leads = provide("leads")
    else:  # no fit rule reads a field the ledger rebuilds: the rows known by then are enough (and much cheaper)
        leads = base("leads").filter(lambda t: t.created_at <= moment)
    fit = {
        RULE_PREFIX + name: ibis.cases(
            *[(leads[field] == value, ibis.literal(float(p))) for value, p in points.items()],
            else_=ibis.literal(0.0),
        )
        for name, _group, field, points in model.fit_rules()
    }
    out = leads.select("lead_id", **fit)
    per_lead = _touch_points(_touches(provide, model, moment), model, moment)
    if per_lead is None:
        return out
    joined = out.left_join(per_lead, out.lead_id == per_lead["__lead"])
    touch_cols = [c for c in per_lead.columns if c != "__lead"]
    return joined.select(*out.columns, **{c: joined[c].fill_null(0.0) for c in touch_cols})


def _grouped(points: ir.Table, model: ScoringModel) -> dict[str, ir.FloatingValue]:
    """Each group's points after its cap."""
    members: dict[str, list[str]] = {}
    for name, group, _f, _fp in model.fit_rules():
        members.setdefault(group, []).append(RULE_PREFIX + name)
    for name, group, _m, _tp, _per in model.touch_rules():
        members.setdefault(group, []).append(RULE_PREFIX + name)
    signs = model.groups()
    out: dict[str, ir.FloatingValue] = {}
    for group, cols in members.items():
        total: ir.FloatingValue = ibis.literal(0.0)
        for c in cols:
            total = total + points[c]
        cap = model.caps.get(group)
        if cap is not None:
            total = ibis.least(total, ibis.literal(cap)) if signs[group] > 0 else ibis.greatest(total, -cap)
        out[group] = total
    return out


def band_expr(score: ir.FloatingValue, model: ScoringModel) -> ir.StringValue:
    """The band of ``score``: the highest cut point it reaches, else the lowest band."""
    bands = list(model.bands.items())
    return ibis.cases(*[(score >= cut, ibis.literal(band)) for band, cut in bands], else_=ibis.literal(bands[-1][0]))


def score_leads(tables: Tables | TableProvider, model: ScoringModel, as_of: dt.date | dt.datetime) -> ir.Table:
    """Every lead known at ``as_of`` with its score, band and MQL decision under ``model`` (a lazy table).

    Columns: ``lead_id``, one ``rule__<name>`` per rule, ``score``, ``band``, ``is_mql``, ``model``, ``version``,
    ``scored_at`` (``as_of``). Nothing known only after ``as_of`` is used (see the module docstring).
    """
    points = rule_points(tables, model, as_of)
    total: ir.FloatingValue = ibis.literal(0.0)
    for value in _grouped(points, model).values():
        total = total + value
    scored = points.mutate(score=total)
    return scored.mutate(
        band=band_expr(scored.score, model),
        is_mql=scored.score >= model.mql_threshold,
        model=ibis.literal(model.name),
        version=ibis.literal(model.version, "int64"),
        scored_at=ibis.literal(as_of_moment(as_of), "timestamp"),
    )


def rule_columns(model: ScoringModel) -> list[str]:
    """The ``rule__<name>`` columns of :func:`score_leads`, in the model's order."""
    fit = [RULE_PREFIX + n for n, _g, _f, _p in model.fit_rules()]
    return fit + [RULE_PREFIX + n for n, _g, _m, _p, _per in model.touch_rules()]


__all__ = ["RULE_PREFIX", "as_of_moment", "band_expr", "rule_columns", "rule_points", "score_leads"]
