"""The marketing → sales hand-off: what happened to each MQL — accepted, rejected (and why) or untouched.

Both sides argue about this table, so the rule is explicit: **each MQL event is one hand-off** (a recycled lead
that re-qualifies is handed off again). Its outcome is the lead's first ``accepted`` or ``rejected`` lifecycle
event at or after the MQL and before the lead's next MQL; with neither by ``as_of`` it is ``untouched``.
Channel and rep are the lead's (``channel`` = lead source, ``owner_id`` = the lead's owner); ``decided_by``
is who accepted or rejected it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.funnel.entities import dimension_lookup
from revalign.analytics.funnel.periods import QUANTILES, as_timestamp, bucket, in_range
from revalign.model.access import Tables

OUTCOMES = ("accepted", "rejected", "untouched")


def handoffs(tables: Tables, *, as_of: object = None) -> ir.Table:
    """One row per MQL event: ``key`` (lead), ``t_mql``, ``outcome``, ``t_decision``, ``reason``, ``decided_by``.

    Lazy (an Ibis table) so callers aggregate it on the engine.
    """
    ledger = tables.table("ledger")
    lc = ledger.filter((ledger.kind == "lifecycle") & (ledger.entity_type == "lead"))
    as_of_ts = as_timestamp(as_of)
    if as_of_ts is not None:
        lc = lc.filter(lc.occurred_at <= as_of_ts)
    mql = lc.filter(lc.name == "mql")
    w = ibis.window(group_by=mql.entity_id, order_by=[mql.occurred_at, mql.event_id])
    mql = mql.select(key=mql.entity_id, t_mql=mql.occurred_at, t_next=mql.occurred_at.lead().over(w))
    dec = lc.filter(lc.name.isin(("accepted", "rejected")))
    dec = dec.select(
        d_key=dec.entity_id,
        outcome=dec.name,
        t_decision=dec.occurred_at,
        reason=dec.reason,
        decided_by=dec.actor_id,
        d_id=dec.event_id,
    )
    j = mql.left_join(
        dec,
        [
            mql.key == dec.d_key,
            dec.t_decision >= mql.t_mql,
            mql.t_next.isnull() | (dec.t_decision < mql.t_next),
        ],
    )
    rank = ibis.row_number().over(group_by=[j.key, j.t_mql], order_by=[j.t_decision, j.d_id])
    j = j.mutate(_rn=rank).filter(lambda t: t._rn == 0)
    return j.select(
        "key",
        "t_mql",
        outcome=j.outcome.fill_null("untouched"),
        t_decision=j.t_decision,
        reason=j.reason,
        decided_by=j.decided_by,
    )


def _prepared(tables: Tables, by: tuple[str, ...], start: object, end: object, as_of: object) -> ir.Table:
    """The hand-offs of ``[start, end)`` with the lead dimensions of ``by`` joined on."""
    h = handoffs(tables, as_of=as_of)
    h = h.filter(in_range(h.t_mql, as_timestamp(start), as_timestamp(end)))
    lead_dims = [b for b in by if b != "decided_by"]
    if lead_dims:
        dims = dimension_lookup(tables, "lead", lead_dims)
        h = h.left_join(dims, h.key == dims.d_key).drop("d_key")
    return h


def handoff(
    tables: Tables,
    *,
    by: tuple[str, ...] | list[str] = ("channel",),
    grain: str | None = None,
    start: object = None,
    end: object = None,
    as_of: object = None,
) -> pd.DataFrame:
    """MQLs handed off in ``[start, end)`` and what sales did with them, per period and ``by``.

    ``by`` takes lead dimensions (``channel``, ``owner_id``, ``segment``, …) and ``decided_by``. Columns:
    ``mqls``, ``accepted``, ``rejected``, ``untouched``, their rates (shares of ``mqls``; they sum to 1), and
    ``p50_hours``/``p75_hours``/``p90_hours`` from MQL to decision.
    """
    by = tuple(by)
    h = _prepared(tables, by, start, end, as_of)
    hours = (h.t_decision.epoch_seconds() - h.t_mql.epoch_seconds()) / 3600.0
    agg = h.group_by(bucket(h.t_mql, grain).name("period"), *by).agg(
        mqls=h.count(),
        **{o: (h.outcome == o).sum() for o in OUTCOMES},
        **{f"{k}_hours": hours.quantile(q) for k, q in QUANTILES.items()},
    )
    frame = tables.to_pandas(agg)
    for c in ("mqls", *OUTCOMES):
        frame[c] = frame[c].fillna(0).astype("int64")
    for o in OUTCOMES:
        frame[f"{o}_rate"] = (frame[o] / frame["mqls"].where(frame["mqls"] > 0)).astype("float64")
    if grain is not None and not frame.empty:
        frame["period"] = pd.to_datetime(frame["period"]).dt.date
    cols = ["period", *by, "mqls", *OUTCOMES, *(f"{o}_rate" for o in OUTCOMES)]
    frame = frame[[*cols, *(f"{k}_hours" for k in QUANTILES)]]
    return frame.sort_values(["period", *by], kind="stable").reset_index(drop=True)


def rejection_reasons(
    tables: Tables,
    *,
    by: tuple[str, ...] | list[str] = (),
    start: object = None,
    end: object = None,
    as_of: object = None,
) -> pd.DataFrame:
    """Rejected MQLs by reason (and ``by``), with each reason's share of the group's rejections."""
    by = tuple(by)
    h = _prepared(tables, by, start, end, as_of)
    r = h.filter(h.outcome == "rejected")
    frame = tables.to_pandas(r.group_by(*by, reason=r.reason.fill_null("unknown")).agg(rejected=r.count()))
    frame["rejected"] = frame["rejected"].astype("int64")
    total = frame.groupby(list(by))["rejected"].transform("sum") if by else frame["rejected"].sum()
    frame["share"] = (frame["rejected"] / total).astype("float64")
    # ties broken by reason: the engine returns groups in any order, and a page must not reorder between requests
    order = [*by, "rejected", "reason"]
    return frame.sort_values(order, ascending=[True] * len(by) + [False, True], kind="stable").reset_index(drop=True)


__all__ = ["OUTCOMES", "handoff", "handoffs", "rejection_reasons"]
