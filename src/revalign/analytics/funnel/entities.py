"""Who a ledger event belongs to, and what an entity can be segmented by.

The ledger records events on leads, accounts and opportunities. A funnel counts one kind of entity once, so
each event is mapped to the funnel's entity key:

- ``lead`` funnels: lead events are the lead's; an opportunity's events belong to its ``lead_id`` (so a lead
  with two opportunities is still one lead — the 1:many trap that pushes naive conversion rates above 100%);
  an account's events belong to every lead of that account.
- ``account`` funnels: lead events roll up to the lead's account, opportunity events to the opportunity's
  account (or its lead's account); a lead with no account is its own account ``lead:<id>``, an opportunity
  with neither ``opportunity:<id>``, so nothing is silently dropped.
- ``opportunity`` funnels: only opportunity events count.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from revalign.errors import UnknownNameError
from revalign.model.access import Tables

ALIASES = {"channel": "lead_source"}
"""Dimension aliases: ``channel`` is the canonical channel code of the entity's source."""


def _str(value: ir.Value) -> ir.StringValue:
    """A nullable string, so the parts of a union agree whatever the source columns' nullability."""
    return value.cast(dt.String(nullable=True))


def _map_table(tables: Tables, entity: str) -> ir.Table | None:
    """(entity_type, entity_id) → key, for the ledger rows whose entity is not the funnel's own."""
    leads, opps = tables.table("leads"), tables.table("opportunities")
    if entity == "lead":
        m_opp = opps.filter(opps.lead_id.notnull()).select(
            m_type=_str(ibis.literal("opportunity")), m_id=_str(opps.opportunity_id), key=_str(opps.lead_id)
        )
        m_acc = leads.filter(leads.account_id.notnull()).select(
            m_type=_str(ibis.literal("account")), m_id=_str(leads.account_id), key=_str(leads.lead_id)
        )
        return m_opp.union(m_acc)
    if entity == "account":
        m_lead = leads.select(
            m_type=_str(ibis.literal("lead")),
            m_id=_str(leads.lead_id),
            key=_str(leads.account_id.fill_null(ibis.literal("lead:").concat(leads.lead_id))),
        )
        lk = leads.select(l_id=leads.lead_id, l_acc=leads.account_id)
        o = opps.left_join(lk, opps.lead_id == lk.l_id)
        m_opp = o.select(
            m_type=_str(ibis.literal("opportunity")),
            m_id=_str(o.opportunity_id),
            key=_str(
                ibis.coalesce(
                    o.account_id,
                    o.l_acc,
                    ibis.literal("lead:").concat(o.lead_id),
                    ibis.literal("opportunity:").concat(o.opportunity_id),
                )
            ),
        )
        return m_lead.union(m_opp)
    return None


def keyed(tables: Tables, events: ir.Table, entity: str) -> ir.Table:
    """``events`` (ledger rows) with a ``key`` column: the funnel entity each row belongs to."""
    own = events.entity_type == entity
    mapping = _map_table(tables, entity)
    if mapping is None:
        return events.filter(own).mutate(key=events.entity_id)
    j = events.left_join(mapping, [events.entity_type == mapping.m_type, events.entity_id == mapping.m_id])
    j = j.mutate(key=(j.entity_type == entity).ifelse(j.entity_id, j.key))
    return j.filter(j.key.notnull()).drop("m_type", "m_id")


def dimensions(tables: Tables, entity: str) -> ir.Table:
    """One row per entity key with the columns a funnel can be segmented or filtered by."""
    leads = tables.table("leads")
    if entity == "lead":
        return leads.select(
            key=leads.lead_id,
            channel=leads.lead_source,
            **{c: leads[c] for c in leads.columns if c not in ("lead_id", "email", "created_at", "score")},
        )
    if entity == "opportunity":
        opps = tables.table("opportunities")
        return opps.select(
            key=opps.opportunity_id,
            channel=opps.lead_source,
            **{
                c: opps[c]
                for c in ("account_id", "lead_id", "owner_id", "deal_type", "lead_source", "segment", "region")
            },
        )
    accounts = tables.table("accounts")
    ranked = leads.filter(leads.account_id.notnull()).mutate(
        _rn=ibis.row_number().over(group_by=leads.account_id, order_by=[leads.created_at, leads.lead_id])
    )
    first = ranked.filter(ranked._rn == 0).select(f_acc=ranked.account_id, channel=ranked.lead_source)
    acc = accounts.left_join(first, accounts.account_id == first.f_acc)
    cols = ("segment", "industry", "region", "owner_id")
    known = acc.select(key=_str(acc.account_id), channel=_str(acc.channel), **{c: _str(acc[c]) for c in cols})
    orphans = leads.filter(leads.account_id.isnull())
    orphan_dims = orphans.select(
        key=_str(ibis.literal("lead:").concat(orphans.lead_id)),
        channel=_str(orphans.lead_source),
        **{c: _str(orphans[c]) for c in cols},
    )
    return known.union(orphan_dims)


def check_dimensions(dims: ir.Table, names: tuple[str, ...] | list[str], entity: str) -> None:
    """Fail early, with the allowed names, when ``by``/filters name a dimension the entity does not have."""
    for name in names:
        if name not in dims.columns or name == "key":
            raise UnknownNameError(f"dimension of a {entity} funnel", name, [c for c in dims.columns if c != "key"])


def dimension_lookup(tables: Tables, entity: str, names: tuple[str, ...] | list[str]) -> ir.Table:
    """``d_key`` plus the dimensions ``names`` of each ``entity``, checked: the table a flow analytic joins on."""
    dims = dimensions(tables, entity)
    check_dimensions(dims, names, entity)
    return dims.select("key", *names).rename(d_key="key")
