"""``no_opportunity_recreate``: a lead closed as "no opportunity" comes back as a new lead, under another source or
owner, so the deal it becomes is credited to whoever re-created it.

Rules:

1. The close: a lifecycle event of a lead whose ``reason`` is one of ``reasons`` (default ``no_opportunity``,
   as mapped from the CRM's disqualification reason).
2. The re-creation: another lead created after the close and within ``window_days`` of it that is the same
   person — the same normalised email (case and ``+tag`` ignored; confidence 0.95), or an alias of it at the
   same account (the local part equal once dots, dashes and underscores are dropped; confidence 0.85). With
   ``match_account`` a new sales-sourced lead of the same account also counts (confidence 0.5): colleagues of a
   disqualified lead arrive on their own, so this is off by default.
3. By a rep, under another source or owner: the new lead has an owner, and its source differs from the
   original's (before any overwrite) or its owner from the original's. A lead that returns to the same rep through
   the same channel is a returning lead; an unowned new lead is marketing capturing the person again (reported
   as a ``duplicate_lead``), not a rep re-creating a deal.
4. One finding per new lead: when it matches several closes, the strongest match, then the latest close.

The finding: ``entity`` the new lead, ``related_id`` the original lead; ``channel_from`` the original's source
before any overwrite (the ledger keeps it), ``channel_to`` the new lead's source; ``opportunity_id`` and
``revenue_at_stake`` the new lead's first opportunity and its won amount; ``actor_id`` who created the new lead.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from revalign.analytics.audit.common import (
    finding_table,
    first_opportunity,
    normalised_email,
    original_sources,
    text,
)
from revalign.definitions.audit import AuditSettings
from revalign.model.access import Tables

KIND = "no_opportunity_recreate"


def _people(tables: Tables) -> ir.Table:
    """Leads with their normalised email, alias key and source before any overwrite."""
    leads = tables.table("leads")
    email = normalised_email(leads.email)
    local = email.re_extract(r"^([^@]*)@", 1).re_replace(r"[._-]", "")
    orig = original_sources(tables)
    leads = leads.left_join(orig, leads.lead_id == orig.s_lead)
    return leads.select(
        lead_id=leads.lead_id,
        account_id=leads.account_id,
        email=email,
        alias=local + "@" + leads.account_id,
        source=leads.s_original.fill_null(leads.lead_source),
        current_source=leads.lead_source,
        owner_id=leads.owner_id,
        created_at=leads.created_at,
    )


def _closes(tables: Tables, settings: AuditSettings) -> ir.Table:
    led = tables.table("ledger")
    c = led.filter(
        (led.kind == "lifecycle")
        & (led.entity_type == "lead")
        & led.reason.isin(list(settings.no_opportunity_recreate.reasons))
    )
    return c.select(q_lead=c.entity_id, q_at=c.occurred_at, q_event=c.event_id, q_actor=c.actor_id)


def _matches(tables: Tables, settings: AuditSettings) -> ir.Table:
    cfg = settings.no_opportunity_recreate
    people = _people(tables)
    closes = _closes(tables, settings)
    old = closes.inner_join(people, closes.q_lead == people.lead_id)
    old = old.select(
        "q_lead", "q_at", "q_event", "q_actor", o_email="email", o_alias="alias", o_account="account_id",
        o_source="source", o_owner="owner_id",
    )  # fmt: skip
    new = people.view()  # a self-join: the second side must be a distinct view of the same table
    window = ibis.interval(seconds=int(cfg.window_days * 86400))
    same_email = old.o_email.notnull() & (new.email == old.o_email)
    same_alias = new.account_id.notnull() & (new.alias == old.o_alias)
    same_account = new.account_id.notnull() & (new.account_id == old.o_account)
    if cfg.match_account:
        same_account &= new.current_source.isin(list(settings.sales_channels))
    person = same_email | same_alias | (same_account if cfg.match_account else ibis.literal(False))
    j = old.inner_join(
        new,
        [new.lead_id != old.q_lead, new.created_at > old.q_at, new.created_at <= old.q_at + window, person],
    )
    other_source = j.current_source.isnull() | j.o_source.isnull() | (j.current_source != j.o_source)
    other_owner = j.o_owner.isnull() | (j.owner_id != j.o_owner)
    j = j.filter(j.owner_id.notnull() & (other_source | other_owner))
    confidence = ibis.cases(
        (j.o_email.notnull() & (j.email == j.o_email), 0.95),
        (j.account_id.notnull() & (j.alias == j.o_alias), 0.85),
        else_=0.5,
    )
    j = j.mutate(confidence=confidence)
    rank = ibis.row_number().over(group_by=j.lead_id, order_by=[ibis.desc(j.confidence), ibis.desc(j.q_at), j.q_lead])
    return j.mutate(_rn=rank).filter(lambda t: t._rn == 0)


def no_opportunity_recreate(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Every re-created lead (findings shape, ``finding_id`` null)."""
    j = _matches(tables, settings)
    opp = first_opportunity(tables)
    led = tables.table("ledger")
    born = led.filter((led.kind == "lifecycle") & (led.entity_type == "lead") & (led.name == "lead"))
    rank = ibis.row_number().over(group_by=born.entity_id, order_by=[born.occurred_at, born.event_id])
    born = born.mutate(_rn=rank).filter(lambda t: t._rn == 0)
    born = born.select(b_lead=born.entity_id, b_event=born.event_id, b_actor=born.actor_id, b_rec=born.recorded_at)
    j = j.left_join(opp, j.lead_id == opp.o_lead).left_join(born, j.lead_id == born.b_lead)
    actor = j.b_actor.fill_null(j.owner_id)
    evidence = ibis.ifelse(j.b_event.isnull(), j.q_event, j.q_event + "," + j.b_event)
    detail = (
        ibis.literal("closed as no opportunity by ")
        + text(j.q_actor)
        + ", re-created by "
        + text(actor)
        + " as a "
        + text(j.current_source)
        + " lead (was "
        + text(j.o_source)
        + ")"
    )
    return finding_table(
        j,
        KIND,
        {
            "entity_type": "lead",
            "entity_id": j.lead_id,
            "related_id": j.q_lead,
            "actor_id": actor,
            "occurred_at": j.created_at,
            "recorded_at": j.b_rec.fill_null(j.created_at),
            "confidence": j.confidence,
            "channel_from": j.o_source,
            "channel_to": j.current_source,
            "opportunity_id": j.o_id,
            "revenue_at_stake": j.o_won.fill_null(0.0),
            "evidence": evidence,
            "detail": detail,
        },
    )
