"""⑤ The open pipeline as it stood on past days, and what became of it: the rows a quarter forecast learns from.

A forecast made on day ``as_of`` reads only the ledger rows recorded by the end of that day. From them it
rebuilds each new-business deal's stage spans (a stage from the moment it was entered until the next stage event)
and its amount at any moment (the amount at creation plus the amount edits that had happened by then). A
snapshot on day ``d ≤ as_of`` is then the deals in an open stage at the end of ``d``, with their amount and age
then; a deal's win counts only if it was recorded by ``as_of``. So a landing computed for a past day sees what
that day would have seen (no look-ahead), which is what makes its backtest honest.

All snapshots of one forecast are one Ibis expression (the stage spans crossed with a small table of snapshot
days), so a forecast compiles a few queries, not one per past quarter.

The deal's close-date field is deliberately not read: reps push it quarter after quarter, and exports overwrite
it with the real close day once a deal closes, so as an input it either lies or leaks the future. Slippage is
measured from outcomes instead (won, but after the quarter's end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.revenue import new_business
from revalign.errors import UnknownNameError
from revalign.model.ledger import TableProvider
from revalign.model.tables import OPPORTUNITY_STAGES

DIMENSIONS = {"team": "team_id", "segment": "segment", "channel": "lead_source", "owner": "owner_id"}
"""What a forecast or a waterfall can be split by, and the opportunity (or owner) column behind each."""
OPEN_STAGES = OPPORTUNITY_STAGES[:5]


def end_of(day: dt.date) -> ir.TimestampScalar:
    """The last moment of ``day`` as an Ibis timestamp literal (as-of reads include the whole day)."""
    return ibis.literal(dt.datetime.combine(day, dt.time(23, 59, 59, 999999)), "timestamp")


def start_of(day: dt.date) -> ir.TimestampScalar:
    return ibis.literal(dt.datetime.combine(day, dt.time()), "timestamp")


def with_dims(base: TableProvider, opps: ir.Table, by: tuple[str, ...]) -> ir.Table:
    """``opps`` with one column per dimension in ``by`` (``team`` is the owner's team in ``users``)."""
    for name in by:
        if name not in DIMENSIONS:
            raise UnknownNameError("pipeline dimension", name, DIMENSIONS)
    cols = {n: opps[DIMENSIONS[n]].cast("string") for n in by if n != "team"}
    if "team" in by:
        users = base("users").select(u_id=ibis._.user_id, u_team=ibis._.team_id)
        opps = opps.left_join(users, opps.owner_id == users.u_id)
        cols["team"] = opps.u_team.cast("string")
    return opps.mutate(**cols) if cols else opps


def name_teams(run: Callable[[ir.Table], pd.DataFrame], base: TableProvider, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``team`` column (team ids) holding the teams' names: a CRO reads "EMEA Enterprise",
    not "T06". An id the ``teams`` table lacks stays as it is; a frame without ``team`` is returned unchanged."""
    if "team" not in frame.columns:
        return frame
    teams = run(base("teams").select(t_id=ibis._.team_id.cast("string"), t_name=ibis._.name))
    names = dict(zip(teams["t_id"], teams["t_name"], strict=True))
    return frame.assign(team=frame["team"].map(lambda t: names.get(t) or t))


def _known(base: TableProvider, as_of: dt.date) -> ir.Table:
    """Opportunity ledger rows recorded by the end of ``as_of``."""
    ledger = base("ledger")
    return ledger.filter((ledger.entity_type == "opportunity") & (ledger.recorded_at <= end_of(as_of)))


def amount_edits(ledger: ir.Table) -> ir.Table:
    """Amount edits of opportunities in ``ledger``: ``e_id``, ``t``, ``delta`` (new − old).

    A row without an old value is not an edit: a CRM's property history (HubSpot, Airbyte) records the value a deal
    was created with that way. Counted as an edit it would move the whole amount from "created" to "amount
    changed" and make the deal look created at zero."""
    ev = ledger.filter(
        (ledger.entity_type == "opportunity")
        & (ledger.kind == "field")
        & (ledger.name == "amount")
        & ledger.old_value.notnull()
    )
    delta = ev.new_value.cast("float64").fill_null(0.0) - ev.old_value.cast("float64")
    return ev.select(e_id=ev.entity_id, t=ev.occurred_at, delta=delta)


def deals(base: TableProvider, as_of: dt.date, by: tuple[str, ...] = ()) -> ir.Table:
    """New-business deals created by ``as_of``: ``o_id``, ``created_at``, ``amount0`` (at creation), ``won_at``
    (the win as recorded by ``as_of``, else null), ``amount_now`` (as known at ``as_of``) and ``by``."""
    opps = new_business(base("opportunities"))
    opps = with_dims(base, opps.filter(opps.created_at <= end_of(as_of)), by)
    every = amount_edits(base("ledger"))
    every = every.group_by(a_id=every.e_id).agg(all_delta=every.delta.sum())
    known = _known(base, as_of)
    edits = amount_edits(known)
    edits = edits.group_by(k_id=edits.e_id).agg(known_delta=edits.delta.sum())
    st = known.filter((known.kind == "stage") & (known.name == "closed_won"))
    wins = st.group_by(w_id=st.entity_id).agg(won_at=st.occurred_at.min())
    o = opps.left_join(every, opps.opportunity_id == every.a_id)
    o = o.left_join(edits, o.opportunity_id == edits.k_id)
    o = o.left_join(wins, o.opportunity_id == wins.w_id)
    amount0 = o.amount.fill_null(0.0) - o.all_delta.fill_null(0.0)
    return o.select(
        *by,
        o_id=o.opportunity_id.cast("string"),
        created_at=o.created_at,
        amount0=amount0,
        amount_now=amount0 + o.known_delta.fill_null(0.0),
        won_at=o.won_at,
    )


def snapshots(
    base: TableProvider, as_of: dt.date, days: Sequence[tuple[int, dt.date, dt.date]], by: tuple[str, ...] = ()
) -> ir.Table:
    """The deals open at the end of each snapshot day, as known at ``as_of``.

    ``days`` are ``(key, snapshot day, quarter end (exclusive))``. Columns: ``key``, ``q_end``, ``o_id``,
    ``stage``, ``amount`` (at the snapshot), ``age_days``, ``won_at`` and ``by``.
    """
    known = _known(base, as_of)
    st = known.filter(known.kind == "stage")
    w = ibis.window(group_by=st.entity_id, order_by=[st.occurred_at, st.event_id])
    spans = st.select(s_id=st.entity_id, stage=st.name, entered=st.occurred_at, left=st.occurred_at.lead().over(w))
    spans = spans.filter(spans.stage.isin(OPEN_STAGES))
    snap_days = ibis.memtable(
        {
            "key": [k for k, _, _ in days],
            "snap": [dt.datetime.combine(d, dt.time(23, 59, 59, 999999)) for _, d, _ in days],
            "q_end": [dt.datetime.combine(e, dt.time()) for _, _, e in days],
        },
        schema={"key": "int64", "snap": "timestamp", "q_end": "timestamp"},
    )
    j = spans.cross_join(snap_days)
    j = j.filter((j.entered <= j.snap) & (j.left.isnull() | (j.left > j.snap)))
    d = deals(base, as_of, by)
    j = j.join(d, j.s_id == d.o_id)
    edits = amount_edits(known)
    k = j.left_join(edits, (edits.e_id == j.o_id) & (edits.t <= j.snap))
    keys = ["key", "q_end", "o_id", "stage", "snap", "created_at", "amount0", "won_at", *by]
    g = k.group_by(*keys).agg(changes=k.delta.sum())
    age = (g.snap.epoch_seconds() - g.created_at.epoch_seconds()) / 86400.0
    return g.select(
        "key", "q_end", "o_id", "stage", *by, "won_at", amount=g.amount0 + g.changes.fill_null(0.0), age_days=age
    )


__all__ = [
    "DIMENSIONS",
    "OPEN_STAGES",
    "amount_edits",
    "deals",
    "end_of",
    "name_teams",
    "snapshots",
    "start_of",
    "with_dims",
]
