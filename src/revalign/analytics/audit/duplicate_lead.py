"""``duplicate_lead``: the same person entered twice, with the record that survives.

Rules:

1. Two leads are the same person when their normalised emails are equal: lower-cased, trimmed and, with
   ``ignore_tags``, without a ``+tag`` (``Pat+crm@Acme.com`` is ``pat@acme.com``; confidence 0.95), or when
   they belong to the same account and their local parts are equal once dots, dashes and underscores are
   dropped (``pat.lee@`` and ``patlee@`` at one account; confidence 0.8). Leads hold no person names, so the
   email is the person's key; this blocking and matching is all in Ibis, on the engine.
2. The survivor of a group is the lead created first (then the smallest id): the record a merge keeps, and the
   one whose source has the credit. Every other lead of the group is reported against it.
3. A lead already reported as a ``no_opportunity_recreate`` of that survivor is not reported again: a rep's
   re-creation is the more specific finding.

The finding: ``entity`` the duplicate, ``related_id`` the survivor; ``channel_from`` the survivor's source and
``channel_to`` the duplicate's (credit the duplicate may take); the duplicate's first opportunity and its won
amount when it has one.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from revalign.analytics.audit.common import finding_table, first_opportunity, normalised_email, text
from revalign.analytics.audit.no_opportunity_recreate import no_opportunity_recreate
from revalign.definitions.audit import AuditSettings
from revalign.model.access import Tables

KIND = "duplicate_lead"


def _keyed(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Leads with an email, their two match keys, and the creation event of each lead."""
    leads = tables.table("leads").filter(lambda t: t.email.notnull())
    email = normalised_email(leads.email, ignore_tags=settings.duplicate_lead.ignore_tags)
    local = email.re_extract(r"^([^@]*)@", 1).re_replace(r"[._-]", "")
    return leads.select(
        lead_id=leads.lead_id,
        email_key=email,
        alias_key=ibis.ifelse(leads.account_id.isnull(), None, local + "@" + leads.account_id),
        source=leads.lead_source,
        created_at=leads.created_at,
    )


def _pairs(keyed: ir.Table, key: str, confidence: float) -> ir.Table:
    """Every lead of a ``key`` group but the first-created, paired with that first (the survivor)."""
    k = keyed.filter(keyed[key].notnull() & (keyed[key] != ""))
    rank = ibis.row_number().over(group_by=k[key], order_by=[k.created_at, k.lead_id])
    k = k.mutate(_rn=rank)
    first = k.filter(k._rn == 0).select(f_key=k[key], f_lead=k.lead_id, f_source=k.source)
    rest = k.filter(k._rn > 0)
    j = rest.inner_join(first, rest[key] == first.f_key)
    return j.select("lead_id", "source", "created_at", "f_lead", "f_source", confidence=ibis.literal(confidence))


def duplicate_lead(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Every duplicate lead against its survivor (findings shape, ``finding_id`` null)."""
    keyed = _keyed(tables, settings)
    pairs = ibis.union(_pairs(keyed, "email_key", 0.95), _pairs(keyed, "alias_key", 0.8))
    rank = ibis.row_number().over(group_by=pairs.lead_id, order_by=[ibis.desc(pairs.confidence), pairs.f_lead])
    pairs = pairs.mutate(_rn=rank).filter(lambda t: t._rn == 0)
    recreated = no_opportunity_recreate(tables, settings).select(r_lead="entity_id", r_orig="related_id")
    pairs = pairs.anti_join(recreated, [pairs.lead_id == recreated.r_lead, pairs.f_lead == recreated.r_orig])
    led = tables.table("ledger")
    born = led.filter((led.kind == "lifecycle") & (led.entity_type == "lead") & (led.name == "lead"))
    born = born.select(b_lead=born.entity_id, b_event=born.event_id, b_rec=born.recorded_at, b_actor=born.actor_id)
    rank = ibis.row_number().over(group_by=born.b_lead, order_by=[born.b_rec, born.b_event])
    born = born.mutate(_rn=rank).filter(lambda t: t._rn == 0).drop("_rn")
    opp = first_opportunity(tables)
    j = pairs.left_join(born, pairs.lead_id == born.b_lead)
    j = j.left_join(opp, j.lead_id == opp.o_lead)
    return finding_table(
        j,
        KIND,
        {
            "entity_type": "lead",
            "entity_id": j.lead_id,
            "related_id": j.f_lead,
            "actor_id": j.b_actor,
            "occurred_at": j.created_at,
            "recorded_at": j.b_rec.fill_null(j.created_at),
            "confidence": j.confidence,
            "channel_from": j.f_source,
            "channel_to": j.source,
            "opportunity_id": j.o_id,
            "revenue_at_stake": j.o_won.fill_null(0.0),
            "evidence": j.b_event,
            "detail": ibis.literal("same person as ") + j.f_lead + " (created first, source " + text(j.f_source) + ")",
        },
    )
