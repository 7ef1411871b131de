"""``stage_skip``: an opportunity that jumped over stages of the sales process.

Rules (over the ledger's ``stage`` events of opportunities):

1. The stages an opportunity visited are the open stages it entered (each event's ``name``) and those it left
   (each event's ``old_value``, which also covers the stage it was created in when creation is not an event).
2. Skipped stages are the open stages between the first and the last stage it visited that it never visited.
   Stages before the first one seen are not counted: a deal first recorded in the middle of the process (an
   import, a CRM that logs changes only) did not skip them, as far as anyone can tell.
3. Only ``deal_types`` (default new business: renewals and expansions run a shorter process) and, with
   ``won_only`` (default), only won deals: a skip matters when commission is paid on it.
4. Confidence: 0.9 for one stage skipped, 0.95 for more.

The finding: ``entity`` the opportunity; ``occurred_at`` its last stage event (the win); ``actor_id`` who
recorded it; ``evidence`` every stage event in time order; ``revenue_at_stake`` the won amount.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.audit.common import finding_table, with_evidence
from revalign.definitions.audit import AuditSettings
from revalign.model.access import Tables
from revalign.model.tables import OPPORTUNITY_STAGES

KIND = "stage_skip"
OPEN_STAGES = OPPORTUNITY_STAGES[:5]
"""The open stages in process order (``discovery`` … ``negotiation``); closed stages end the process."""


def _position(stage: ir.StringValue) -> ir.IntegerValue:
    return ibis.cases(*((stage == s, i) for i, s in enumerate(OPEN_STAGES)), else_=ibis.null("int64"))


def visits(tables: Tables) -> ir.Table:
    """Per opportunity (``v_opp``): first and last open-stage position visited, and how many it visited."""
    led = tables.table("ledger")
    st = led.filter((led.entity_type == "opportunity") & (led.kind == "stage"))
    entered = st.select(v_opp=st.entity_id, pos=_position(st.name))
    left = st.select(v_opp=st.entity_id, pos=_position(st.old_value))
    v = ibis.union(entered, left, distinct=True)
    v = v.filter(v.pos.notnull())
    return v.group_by("v_opp").aggregate(lo=v.pos.min(), hi=v.pos.max(), n=v.pos.nunique())


def stage_skip_expr(tables: Tables, settings: AuditSettings) -> ir.Table:
    """Opportunities that skipped open stages (findings shape; ``finding_id`` and ``evidence`` null)."""
    cfg = settings.stage_skip
    v = visits(tables)
    v = v.mutate(skipped=v.hi - v.lo + 1 - v.n).filter(lambda t: t.skipped > 0)
    o = tables.table("opportunities").filter(lambda t: t.deal_type.isin(list(cfg.deal_types)))
    if cfg.won_only:
        o = o.filter(o.is_won)
    o = o.select(o_id=o.opportunity_id, o_won=ibis.ifelse(o.is_won, o.amount.fill_null(0.0), 0.0))
    led = tables.table("ledger")
    st = led.filter((led.entity_type == "opportunity") & (led.kind == "stage"))
    rank = ibis.row_number().over(group_by=st.entity_id, order_by=[ibis.desc(st.occurred_at), st.event_id])
    last = st.mutate(_rn=rank).filter(lambda t: t._rn == 0)
    last = last.select(l_opp="entity_id", l_at="occurred_at", l_rec="recorded_at", l_actor="actor_id", l_name="name")
    j = v.inner_join(o, v.v_opp == o.o_id).inner_join(last, v.v_opp == last.l_opp)
    detail = ibis.literal("skipped ") + j.skipped.cast("string") + " stage(s) on the way to " + j.l_name
    return finding_table(
        j,
        KIND,
        {
            "entity_type": "opportunity",
            "entity_id": j.v_opp,
            "actor_id": j.l_actor,
            "occurred_at": j.l_at,
            "recorded_at": j.l_rec,
            "confidence": ibis.ifelse(j.skipped > 1, 0.95, 0.9),
            "opportunity_id": j.v_opp,
            "revenue_at_stake": j.o_won,
            "detail": detail,
        },
    )


def stage_skip(tables: Tables, settings: AuditSettings) -> pd.DataFrame:
    """Opportunities that skipped open stages, with their stage events as evidence (``finding_id`` null)."""
    led = tables.table("ledger")
    stages = led.filter((led.entity_type == "opportunity") & (led.kind == "stage"))
    return with_evidence(tables, stage_skip_expr(tables, settings), stages)
