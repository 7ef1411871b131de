"""``close_date_push``: an opportunity's close date pushed into a later quarter again and again.

Rules (over the ledger's ``close_date`` field changes of opportunities):

1. A push is a change whose new date is in a later calendar quarter than the old date. A move within the
   quarter, or an earlier date, is forecasting, not a push.
2. An opportunity with at least ``min_pushes`` pushes is reported once, at its last push: one slip is
   forecasting; a deal pushed quarter after quarter is kept alive to pad the pipeline (or sandbagged into the
   quarter that pays the rep best).
3. Confidence: 0.9 at the threshold, 0.95 with one push more (a pattern, not an accident).

The finding: ``entity`` the opportunity; ``actor_id`` who made the last push; ``evidence`` every push, in time
order; ``revenue_at_stake`` the won amount once won; ``detail`` the number of pushes and the dates.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.audit.common import finding_table, text, with_evidence
from revalign.definitions.audit import AuditSettings
from revalign.model.access import Tables

KIND = "close_date_push"


def _quarter_number(day: ir.DateValue) -> ir.IntegerValue:
    return day.year() * 4 + day.quarter()


def pushes(tables: Tables) -> ir.Table:
    """Every close-date change of an opportunity into a later quarter."""
    led = tables.table("ledger")
    c = led.filter(
        (led.entity_type == "opportunity")
        & (led.kind == "field")
        & (led.name == "close_date")
        & led.old_value.notnull()
        & led.new_value.notnull()
    )
    c = c.mutate(old_day=c.old_value.cast("date"), new_day=c.new_value.cast("date"))
    return c.filter(_quarter_number(c.new_day) > _quarter_number(c.old_day))


def close_date_push_expr(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Opportunities pushed ``min_pushes`` times or more (findings shape; ``finding_id`` and ``evidence`` null)."""
    p = pushes(tables)
    w = ibis.window(group_by=p.entity_id, order_by=[p.occurred_at, p.event_id])
    p = p.mutate(
        n=p.event_id.count().over(ibis.window(group_by=p.entity_id)),
        last=ibis.row_number().over(ibis.window(group_by=p.entity_id, order_by=[ibis.desc(p.occurred_at), p.event_id])),
        first_old=p.old_value.first().over(w),
    )
    last = p.filter((p.last == 0) & (p.n >= settings.close_date_push.min_pushes))
    o = tables.table("opportunities")
    o = o.select(o_id=o.opportunity_id, o_won=ibis.ifelse(o.is_won, o.amount.fill_null(0.0), 0.0))
    j = last.left_join(o, last.entity_id == o.o_id)
    detail = (
        ibis.literal("close date pushed ")
        + j.n.cast("string")
        + " times into a later quarter, from "
        + text(j.first_old)
        + " to "
        + text(j.new_value)
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
            "confidence": ibis.ifelse(j.n > settings.close_date_push.min_pushes, 0.95, 0.9),
            "opportunity_id": j.entity_id,
            "revenue_at_stake": j.o_won.fill_null(0.0),
            "detail": detail,
        },
    )


def close_date_push(tables: Tables, settings: AuditSettings) -> pd.DataFrame:
    """Opportunities pushed ``min_pushes`` times or more, with every push as evidence (``finding_id`` null)."""
    return with_evidence(tables, close_date_push_expr(tables, settings), pushes(tables))
