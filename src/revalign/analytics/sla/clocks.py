"""An SLA's clocks as Ibis expressions: one row per start event, its first stop, its pauses and its owner.

A clock starts at each start event of an entity (each MQL event is one clock, like the hand-off: a lead that
re-qualifies gets a new clock) and stops at the first stop event at or after its start and before the entity's
next start, up to ``as_of``. The responsible owner is the entity's owner when the clock stopped (or at
``as_of`` while it runs): the last ``owner_id`` change in the ledger by then, else whoever recorded the stop,
else the owner on the entity's row. Their team is the user's ``team_id``.

These expressions run on the engine (DuckDB, PostgreSQL, Spark); what is pulled into pandas is one row per
clock started in the requested window (and one per pause), because the business-time arithmetic of
:mod:`revalign.analytics.sla.calendar` is numpy over those rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.funnel.periods import in_range
from revalign.definitions.agreements.spec import EventSpec, SlaSpec
from revalign.model.access import Tables

_OWNER_TABLE = {"lead": ("leads", "lead_id"), "opportunity": ("opportunities", "opportunity_id")}


def events(tables: Tables, spec: EventSpec, entity_type: str, as_of: datetime) -> ir.Table:
    """The rows ``spec`` selects, as ``(e_key, e_at, e_actor)``, up to ``as_of``."""
    if spec.touch is not None:
        tp = tables.table("touchpoints")
        tp = tp.filter((tp.touch_type == spec.touch) & (tp.occurred_at <= as_of))
        return tp.select(e_key=tp.lead_id, e_at=tp.occurred_at, e_actor=ibis.null().cast("string"))
    led = tables.table("ledger")
    cond = (led.entity_type == entity_type) & (led.occurred_at <= as_of) & (led.kind == spec.source)
    if spec.source == "field":
        cond = cond & (led.name == spec.field)
        if spec.new_value:
            cond = cond & led.new_value.isin(spec.new_value)
    else:
        cond = cond & led.name.isin(spec.lifecycle or spec.stage)
    if spec.with_reason:
        cond = cond & led.reason.notnull() & (led.reason != "")
    led = led.filter(cond)
    return led.select(e_key=led.entity_id, e_at=led.occurred_at, e_actor=led.actor_id)


def _union(tables: Tables, specs: Sequence[EventSpec], entity_type: str, as_of: datetime) -> ir.Table:
    parts = [events(tables, s, entity_type, as_of) for s in specs]
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p, distinct=False)
    return out


def clock_table(
    tables: Tables, sla: SlaSpec, as_of: datetime, start: datetime | None, end: datetime | None
) -> ir.Table:
    """One row per clock started in ``[start, end)``: ``entity_id, started_at, stopped_at, owner_id, team_id``."""
    assert sla.start is not None
    entity_type = _entity_type(sla.start)
    st = events(tables, sla.start, entity_type, as_of)
    w = ibis.window(group_by=st.e_key, order_by=st.e_at)
    st = st.select(entity_id=st.e_key, started_at=st.e_at, t_next=st.e_at.lead().over(w))
    stop = _union(tables, sla.stop, entity_type, as_of)
    j = st.left_join(
        stop,
        [
            st.entity_id == stop.e_key,
            stop.e_at >= st.started_at,
            st.t_next.isnull() | (stop.e_at < st.t_next),
        ],
    )
    rank = ibis.row_number().over(group_by=[j.entity_id, j.started_at], order_by=[j.e_at, j.e_actor])
    j = j.mutate(_rn=rank).filter(lambda t: t._rn == 0)
    clocks = j.select("entity_id", "started_at", stopped_at=j.e_at, stop_actor=j.e_actor)
    clocks = clocks.filter(in_range(clocks.started_at, start, end))
    return _with_owner(tables, clocks, entity_type, as_of)


def _entity_type(spec: EventSpec) -> str:
    return "opportunity" if spec.stage else "lead"


def _with_owner(tables: Tables, clocks: ir.Table, entity_type: str, as_of: datetime) -> ir.Table:
    """``owner_id`` when the clock stopped (or at ``as_of``) and the owner's ``team_id``."""
    led = tables.table("ledger")
    own = led.filter((led.entity_type == entity_type) & (led.kind == "field") & (led.name == "owner_id"))
    clocks = clocks.mutate(t_ref=clocks.stopped_at.fill_null(as_of))
    spans = _owner_spans(own)
    j = clocks.left_join(
        spans,
        [
            clocks.entity_id == spans.o_key,
            spans.o_from.isnull() | (spans.o_from <= clocks.t_ref),
            spans.o_until.isnull() | (clocks.t_ref < spans.o_until),
        ],
    )
    name, key = _OWNER_TABLE[entity_type]
    rows = tables.table(name)
    rows = rows.select(r_key=rows[key], r_owner=rows.owner_id)
    j = j.left_join(rows, j.entity_id == rows.r_key)
    j = j.select("entity_id", "started_at", "stopped_at", owner_id=ibis.coalesce(j.o_owner, j.stop_actor, j.r_owner))
    j = j.view()  # a fresh relation: the users join below must not reach back into the chain above
    users = tables.table("users")
    users = users.select(u_id=users.user_id, team_id=users.team_id)
    out = j.left_join(users, [j.owner_id == users.u_id])
    return out.select("entity_id", "started_at", "stopped_at", "owner_id", "team_id")


def _owner_spans(own: ir.Table) -> ir.Table:
    """Who owned an entity when: each ``owner_id`` change's new value from its time to the next change, and the
    first change's old value before it (so a clock that stopped before any change still finds its owner)."""
    w = ibis.window(group_by=own.entity_id, order_by=[own.occurred_at, own.event_id])
    own = own.mutate(_next=own.occurred_at.lead().over(w), _first=ibis.row_number().over(w) == 0)
    after = own.select(
        o_key=own.entity_id,
        o_from=own.occurred_at.cast("timestamp"),
        o_until=own._next.cast("timestamp"),
        o_owner=own.new_value,
    )
    first = own.filter(own._first)
    null_ts = ibis.null().cast("timestamp")
    before = first.select(
        o_key=first.entity_id, o_from=null_ts, o_until=first.occurred_at.cast("timestamp"), o_owner=first.old_value
    )
    before = before.filter(before.o_owner.notnull())
    return after.union(before, distinct=False)


def pause_table(tables: Tables, sla: SlaSpec, clocks: ir.Table, as_of: datetime) -> ir.Table | None:
    """One row per pause inside a clock: ``entity_id, started_at, paused_at, resumed_at`` (null: still paused)."""
    if not sla.pause or sla.start is None:
        return None
    entity_type = _entity_type(sla.start)
    parts = []
    for p in sla.pause:
        ps = events(tables, p.start, entity_type, as_of)
        pe = events(tables, p.until, entity_type, as_of)
        pe = pe.select(u_key=pe.e_key, u_at=pe.e_at)
        j = ps.left_join(pe, [ps.e_key == pe.u_key, pe.u_at >= ps.e_at])
        j = j.group_by([j.e_key, j.e_at]).agg(resumed_at=j.u_at.min())
        parts.append(j.select(p_key=j.e_key, paused_at=j.e_at, resumed_at=j.resumed_at))
    pauses = parts[0]
    for p in parts[1:]:
        pauses = pauses.union(p, distinct=False)
    c = clocks.select("entity_id", "started_at", "stopped_at")
    end = c.stopped_at.fill_null(as_of)
    j = c.join(pauses, [c.entity_id == pauses.p_key, pauses.paused_at >= c.started_at, pauses.paused_at < end])
    return j.select("entity_id", "started_at", "paused_at", "resumed_at")


def pull_clocks(
    tables: Tables, sla: SlaSpec, as_of: datetime, start: datetime | None, end: datetime | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clocks and their pauses as frames (one row per clock started in the window; one per pause)."""
    clocks = clock_table(tables, sla, as_of, start, end)
    frame = tables.to_pandas(clocks)
    pauses = pause_table(tables, sla, clocks, as_of)
    cols = ["entity_id", "started_at", "paused_at", "resumed_at"]
    paused = tables.to_pandas(pauses) if pauses is not None else pd.DataFrame(columns=cols)
    for df, ts in ((frame, ("started_at", "stopped_at")), (paused, ("started_at", "paused_at", "resumed_at"))):
        for c in ts:
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    frame["entity_id"] = frame["entity_id"].astype(str)
    return frame, paused


__all__ = ["clock_table", "events", "pause_table", "pull_clocks"]
