"""``owner_flip_before_close``: a deal handed to another rep just before it is won.

Rules:

1. An owner change of an opportunity (ledger field ``owner_id``, old and new known and different) within
   ``days_before_close`` (default 14: the end of a negotiation) before the deal's win (``closed_at`` of a won
   opportunity), or at the win itself.
2. Confidence 0.7: territory changes and leavers are legitimate reasons; the finding asks a reviewer to look,
   the commission moved either way.

The finding: ``entity`` the opportunity (``related_id`` null: the owners are users, named in ``detail``);
``actor_id`` who made the change; ``revenue_at_stake`` the won amount; ``detail`` from whom to whom, and the win.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from revalign.analytics.audit.common import finding_table, text
from revalign.definitions.audit import AuditSettings
from revalign.model.access import Tables

KIND = "owner_flip_before_close"


def owner_flip_before_close(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Every late owner change of a won deal (findings shape, ``finding_id`` null)."""
    led = tables.table("ledger")
    c = led.filter(
        (led.entity_type == "opportunity")
        & (led.kind == "field")
        & (led.name == "owner_id")
        & led.old_value.notnull()
        & led.new_value.notnull()
        & (led.old_value != led.new_value)
    )
    o = tables.table("opportunities").filter(lambda t: t.is_won & t.closed_at.notnull())
    o = o.select(o_id=o.opportunity_id, o_closed=o.closed_at, o_won=o.amount.fill_null(0.0))
    window = ibis.interval(seconds=int(settings.owner_flip_before_close.days_before_close * 86400))
    j = c.inner_join(o, c.entity_id == o.o_id)
    j = j.filter((j.occurred_at <= j.o_closed) & (j.occurred_at >= j.o_closed - window))
    detail = (
        ibis.literal("owner changed from ")
        + text(j.old_value)
        + " to "
        + text(j.new_value)
        + " by "
        + text(j.actor_id)
        + " before the win on "
        + j.o_closed.cast("string")
    )
    return finding_table(
        j,
        KIND,
        {
            "entity_type": "opportunity",
            "entity_id": j.entity_id,
            "actor_id": j.actor_id,
            "occurred_at": j.occurred_at,
            "recorded_at": j.recorded_at,
            "confidence": 0.7,
            "opportunity_id": j.entity_id,
            "revenue_at_stake": j.o_won,
            "evidence": j.event_id,
            "detail": detail,
        },
    )
