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


def _maps(tables: Tables, entity: str) -> dict[str, ir.Table]:
    """Per foreign entity type, its ``m_id → key`` table: how the ledger rows of other entities reach the funnel's."""
    leads, opps = tables.table("leads"), tables.table("opportunities")
    if entity == "lead":
        m_opp = opps.filter(opps.lead_id.notnull()).select(m_id=_str(opps.opportunity_id), key=_str(opps.lead_id))
        m_acc = leads.filter(leads.account_id.notnull()).select(m_id=_str(leads.account_id), key=_str(leads.lead_id))
        return {"opportunity": m_opp, "account": m_acc}
    if entity == "account":
        m_lead = leads.select(
            m_id=_str(leads.lead_id),
            key=_str(leads.account_id.fill_null(ibis.literal("lead:").concat(leads.lead_id))),
        )
        lk = leads.select(l_id=leads.lead_id, l_acc=leads.account_id)
        o = opps.left_join(lk, opps.lead_id == lk.l_id)
        m_opp = o.select(
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
        return {"lead": m_lead, "opportunity": m_opp}
    return {}


def keyed(tables: Tables, events: ir.Table, entity: str) -> ir.Table:
    """``events`` (ledger rows) with a ``key`` column: the funnel entity each row belongs to.

    The entity's own rows keep their id; each other entity type's rows meet only that type's mapping (so the
    bulk of the events, usually the entity's own, is never joined).
    """
    parts = [events.filter(events.entity_type == entity).mutate(key=_str(events.entity_id))]
    for entity_type, mapping in _maps(tables, entity).items():
        rows = events.filter(events.entity_type == entity_type)
        j = rows.join(mapping, rows.entity_id == mapping.m_id)
        parts.append(j.filter(j.key.notnull()).select(*events.columns, "key"))
    return union_nullable(parts)


def union_nullable(parts: list[ir.Table]) -> ir.Table:
    """``UNION ALL`` of tables with the same columns whose nullability differs (a join can make a column of
    one part non-null): every column is made nullable first, as set operations need equal schemas."""
    if len(parts) == 1:
        return parts[0]
    schema = parts[0].schema()
    nullable = {c: t.copy(nullable=True) for c, t in schema.items()}
    return ibis.union(*(p.select(**{c: p[c].cast(nullable[c]) for c in schema}) for p in parts))


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
