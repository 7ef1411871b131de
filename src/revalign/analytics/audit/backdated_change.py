"""``backdated_change``: a change recorded long after the time it says it happened.

A rep who moves a deal's close date, owner or amount and dates the change in the past (or a CRM admin who
back-fills a win into a closed quarter) rewrites a period that was already reported. The ledger keeps both
times: ``occurred_at`` (what the change claims) and ``recorded_at`` (when revalign first saw it).

Rules:

1. A field change of one of ``fields`` (default lead_source, owner_id, amount, close_date: they move credit or
   money) or an entry into one of ``stages`` (default closed_won: a back-dated win) is back-dated when
   ``recorded_at`` is more than ``min_delay_days`` after ``occurred_at`` (default 3: past any sync delay and a
   weekend).
2. Confidence: 0.6 up to twice the threshold, 0.8 beyond. A late sync is always a possible innocent cause; only
   the CRM's audit trail can tell, so none of these is certain.

How precise the times are depends on the source: with a CRM's field history both are exact; a change seen by
comparing two exports has ``occurred_at`` from the record's last-modified time, so a change recorded at the
next export looks as late as the gap between exports. Set ``min_delay_days`` above that gap for such sources.

The finding: ``entity`` the changed record; ``actor_id`` who changed it; ``evidence`` the ledger event;
``revenue_at_stake`` the opportunity's won amount.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from revalign.analytics.audit.common import finding_table, text
from revalign.definitions.audit import AuditSettings
from revalign.model.access import Tables

KIND = "backdated_change"


def backdated_change(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Every back-dated change (findings shape, ``finding_id`` null)."""
    cfg = settings.backdated_change
    led = tables.table("ledger")
    delay = ibis.interval(seconds=int(cfg.min_delay_days * 86400))
    relevant = ((led.kind == "field") & led.name.isin(list(cfg.fields))) | (
        (led.kind == "stage") & led.name.isin(list(cfg.stages))
    )
    c = led.filter(relevant & led.recorded_at.notnull() & (led.recorded_at > led.occurred_at + delay))
    o = tables.table("opportunities")
    o = o.select(o_id=o.opportunity_id, o_won=ibis.ifelse(o.is_won, o.amount.fill_null(0.0), 0.0))
    j = c.left_join(o, (c.entity_type == "opportunity") & (c.entity_id == o.o_id))
    very_late = j.recorded_at > j.occurred_at + ibis.interval(seconds=int(2 * cfg.min_delay_days * 86400))
    detail = (
        ibis.literal("")
        + j.name
        + " change ("
        + text(j.old_value)
        + " to "
        + text(j.new_value)
        + ") by "
        + text(j.actor_id)
        + " recorded "
        + j.recorded_at.cast("string")
        + ", dated "
        + j.occurred_at.cast("string")
    )
    return finding_table(
        j,
        KIND,
        {
            "entity_type": j.entity_type,
            "entity_id": j.entity_id,
            "actor_id": j.actor_id,
            "occurred_at": j.occurred_at,
            "recorded_at": j.recorded_at,
            "confidence": ibis.ifelse(very_late, 0.8, 0.6),
            "opportunity_id": j.o_id,
            "revenue_at_stake": j.o_won.fill_null(0.0),
            "evidence": j.event_id,
            "detail": detail,
        },
    )
