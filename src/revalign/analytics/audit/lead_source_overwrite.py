"""``lead_source_overwrite``: a lead's source changed after marketing handed the lead to sales.

Rules (over the ledger's ``lead_source`` field changes, old and new value known and different):

1. A change on a **lead** is an overwrite when it happens after the lead's first hand-off stage
   (``handoff_stages``, default the MQL) or after its first opportunity was created. Before the hand-off the
   lead is marketing's own record and marketing ops may still correct its source: that is not gaming.
   A lead revalign first saw (in a snapshot export) already at or past the hand-off counts from that first
   sight, when a later load recorded the change: its stage then is the old value of its first lifecycle change
   recorded later, else its current stage (every stage change between two exports is in the ledger, so an
   unchanged stage held all along). Load order, not business time, is what proves the order here: the first
   export showed the lead handed off with the old source; a later one showed the new source. Without this
   rule, a customer's first export hides every hand-off that happened before it.
2. CRMs copy the source onto the opportunity, so the same overwrite usually shows twice. A change on an
   **opportunity** to the same new value within ``pair_hours`` of a change on its lead is that lead's overwrite
   and is not reported again (its event joins the lead finding's evidence). An opportunity changed on its own
   after it was created is reported on the opportunity.
3. Confidence: 0.95 when the credit moves from a marketing channel to a sales channel (the pattern reps are paid
   for); 0.7 for any other change after the hand-off (credit moved, the audit cannot say to whose benefit).

The finding: ``entity`` the lead (``related_id`` its opportunity) or the opportunity (``related_id`` its lead);
``channel_from``/``channel_to`` the values before and after; ``revenue_at_stake`` the opportunity's won amount;
``actor_id`` who changed it, when the source says.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from revalign.analytics.audit.common import finding_table, first_opportunity, source_changes, text
from revalign.definitions.audit import AuditSettings
from revalign.model.access import Tables
from revalign.model.tables import LIFECYCLE_STAGES

KIND = "lead_source_overwrite"


def _confidence(settings: AuditSettings, old: ir.StringValue, new: ir.StringValue) -> ir.FloatingValue:
    gaming = old.isin(list(settings.marketing_channels)) & new.isin(list(settings.sales_channels))
    return ibis.ifelse(gaming, 0.95, 0.7)


def _detail(entity: str, c: ir.Table, after: ir.StringValue) -> ir.StringValue:
    return (
        ibis.literal(f"{entity} source changed from ")
        + text(c.old_value)
        + " to "
        + text(c.new_value)
        + " by "
        + text(c.actor_id)
        + " after "
        + after
    )


def _past(handoff_stages: tuple[str, ...]) -> list[str]:
    """Stages at or past the first hand-off stage in funnel order (the exits recycled/disqualified can come
    before any hand-off, so they do not count)."""
    first = min(LIFECYCLE_STAGES.index(s) for s in handoff_stages if s in LIFECYCLE_STAGES)
    return [s for s in LIFECYCLE_STAGES[first:] if s not in ("recycled", "disqualified")]


def _first_sight(tables: Tables, handoff_stages: tuple[str, ...]) -> ir.Table:
    """``s_lead, s_load``: leads already handed off in the load that first recorded them, and that load (rule 1).

    The first load is the one that recorded the lead's earliest event (its creation); load ids, not load times,
    tell loads apart, since two loads can share a second."""
    led = tables.table("ledger")
    lead_ev = led.filter(led.entity_type == "lead")
    first = ibis.row_number().over(
        group_by=lead_ev.entity_id, order_by=[lead_ev.occurred_at, lead_ev.recorded_at, lead_ev.event_id]
    )
    seen = lead_ev.mutate(_rn=first).filter(lambda t: t._rn == 0).select(s_lead="entity_id", s_load="load_id")
    life = lead_ev.filter(lead_ev.kind == "lifecycle").select(
        l_lead="entity_id", l_old="old_value", l_load="load_id", l_occ="occurred_at", l_ev="event_id"
    )
    later = life.join(seen, life.l_lead == seen.s_lead).filter(lambda t: t.l_load != t.s_load)
    rank = ibis.row_number().over(group_by=later.l_lead, order_by=[later.l_occ, later.l_ev])
    later = later.mutate(_rn=rank).filter(lambda t: t._rn == 0).select("l_lead", "l_old")
    leads = tables.table("leads").select(c_lead="lead_id", c_stage="lifecycle_stage")
    s = seen.left_join(later, seen.s_lead == later.l_lead).left_join(leads, seen.s_lead == leads.c_lead)
    stage = ibis.coalesce(s.l_old, s.c_stage)
    return s.filter(stage.isin(_past(handoff_stages)) & s.s_load.notnull()).select("s_lead", "s_load")


def _lead_changes(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Lead-level changes after the hand-off, with the lead's opportunity and the paired opportunity event."""
    cfg = settings.lead_source_overwrite
    led = tables.table("ledger")
    hand = led.filter((led.kind == "lifecycle") & (led.entity_type == "lead") & led.name.isin(list(cfg.handoff_stages)))
    hand = hand.group_by(h_lead=hand.entity_id).aggregate(h_at=hand.occurred_at.min())
    c = source_changes(tables, "lead")
    opp = first_opportunity(tables)
    sight = _first_sight(tables, cfg.handoff_stages)
    c = c.left_join(hand, c.entity_id == hand.h_lead).left_join(opp, c.entity_id == opp.o_lead)
    c = c.left_join(sight, c.entity_id == sight.s_lead)
    seen_handed = c.s_load.notnull() & c.load_id.notnull() & (c.load_id != c.s_load)  # a later export showed it
    after_mql = (c.h_at.notnull() & (c.occurred_at > c.h_at)) | seen_handed
    after_opp = c.o_created.notnull() & (c.occurred_at > c.o_created)
    c = c.filter(after_mql | after_opp).mutate(after=ibis.ifelse(after_mql, "the MQL", "the opportunity"))
    oc = source_changes(tables, "opportunity").select(
        p_opp="entity_id", p_new="new_value", p_at="occurred_at", p_event="event_id"
    )
    window = ibis.interval(seconds=int(cfg.pair_hours * 3600))
    c = c.left_join(
        oc,
        [
            c.o_id == oc.p_opp,
            c.new_value == oc.p_new,
            oc.p_at >= c.occurred_at - window,
            oc.p_at <= c.occurred_at + window,
        ],
    )
    rank = ibis.row_number().over(group_by=c.event_id, order_by=[c.p_at, c.p_event])
    return c.mutate(_rn=rank).filter(lambda t: t._rn == 0)


def _lead_findings(tables: Tables, settings: AuditSettings) -> tuple[ir.Table, ir.Table]:
    """The lead findings, and the opportunity events they already account for (``p_event``)."""
    c = _lead_changes(tables, settings)
    evidence = ibis.ifelse(c.p_event.isnull(), c.event_id, c.event_id + "," + c.p_event)
    found = finding_table(
        c,
        KIND,
        {
            "entity_type": "lead",
            "entity_id": c.entity_id,
            "related_id": c.o_id,
            "actor_id": c.actor_id,
            "occurred_at": c.occurred_at,
            "recorded_at": c.recorded_at,
            "confidence": _confidence(settings, c.old_value, c.new_value),
            "channel_from": c.old_value,
            "channel_to": c.new_value,
            "opportunity_id": c.o_id,
            "revenue_at_stake": c.o_won.fill_null(0.0),
            "evidence": evidence,
            "detail": _detail("lead", c, c.after),
        },
    )
    paired = c.filter(c.p_event.notnull()).select(paired_event=c.p_event)
    return found, paired


def _opportunity_findings(tables: Tables, settings: AuditSettings, paired: ir.Table) -> ir.Table:
    """Opportunity-level changes after creation that are not the copy of a lead's overwrite."""
    c = source_changes(tables, "opportunity")
    c = c.anti_join(paired, c.event_id == paired.paired_event)
    o = tables.table("opportunities")
    o = o.select(
        o_id=o.opportunity_id,
        o_lead=o.lead_id,
        o_created=o.created_at,
        o_won=ibis.ifelse(o.is_won, o.amount.fill_null(0.0), 0.0),
    )
    c = c.inner_join(o, c.entity_id == o.o_id).filter(lambda t: t.occurred_at > t.o_created)
    return finding_table(
        c,
        KIND,
        {
            "entity_type": "opportunity",
            "entity_id": c.entity_id,
            "related_id": c.o_lead,
            "actor_id": c.actor_id,
            "occurred_at": c.occurred_at,
            "recorded_at": c.recorded_at,
            "confidence": _confidence(settings, c.old_value, c.new_value),
            "channel_from": c.old_value,
            "channel_to": c.new_value,
            "opportunity_id": c.entity_id,
            "revenue_at_stake": c.o_won,
            "evidence": c.event_id,
            "detail": _detail("opportunity", c, ibis.literal("it was created")),
        },
    )


def lead_source_overwrite(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Every source overwrite after the hand-off, once per overwrite (findings shape, ``finding_id`` null)."""
    leads, paired = _lead_findings(tables, settings)
    return ibis.union(leads, _opportunity_findings(tables, settings, paired))
