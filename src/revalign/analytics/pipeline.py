"""Pipeline: created, coverage against quota, velocity, and stage-weighted pipeline from history.

Definitions (each function's docstring repeats the one it computes):

- **pipeline created**: amount (and count) of opportunities created in a period;
- **coverage**: for each quota period, open pipeline whose close date falls in the period divided by the quota
  still to close (``quota - won in the period``); meaningful for the current and next periods;
- **velocity**: ``open opportunities × win rate × average won deal size / average sales cycle (days)`` — revenue
  the current pipeline produces per day, with rate, size and cycle learned from deals closed in the look-back;
- **stage-weighted pipeline**: each open deal's amount × the historical share of closed deals that won after
  reaching the deal's current stage (learned from the ledger's stage history, not a hand-set probability).

Every view counts new-business deals only, as the catalog's ``new_revenue``, ``win_rate`` and
``pipeline_created`` do (:mod:`revalign.analytics.revenue`); :func:`pipeline_summary` shows renewals and
expansions won beside them, as their own columns.
"""

from __future__ import annotations

import datetime as dt

import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.funnel.entities import dimension_lookup
from revalign.analytics.funnel.periods import as_timestamp, bucket, in_range
from revalign.analytics.revenue import new_business
from revalign.model.access import Tables
from revalign.model.tables import OPPORTUNITY_STAGES


def _with_dims(tables: Tables, opps: ir.Table, by: tuple[str, ...]) -> ir.Table:
    """Opportunities with the dimensions ``by`` (the dimension's value wins over a column of the same name)."""
    if not by:
        return opps
    dims = dimension_lookup(tables, "opportunity", by)
    clash = [c for c in by if c in opps.columns]
    opps = opps.drop(*clash) if clash else opps
    return opps.left_join(dims, opps.opportunity_id == dims.d_key).drop("d_key")


def _grouped(table: ir.Table, by: tuple[str, ...], **metrics: ir.Value) -> ir.Table:
    """``metrics`` per ``by`` group, or one row over the whole table without ``by``."""
    return table.group_by(*by).agg(**metrics) if by else table.agg(**metrics)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype("float64")


def _other_revenue(
    tables: Tables, grain: str | None, by: tuple[str, ...], s: dt.datetime | None, e: dt.datetime | None
) -> pd.DataFrame:
    """Won expansion and renewal amounts per period (by close date) and dims: beside new revenue, never in it."""
    opps = tables.table("opportunities")
    opps = _with_dims(tables, opps.filter(opps.deal_type.isin(("expansion", "renewal"))), by)
    won = opps.filter(opps.is_won & opps.closed_at.notnull() & in_range(opps.closed_at, s, e))
    return tables.to_pandas(
        won.group_by(bucket(won.closed_at, grain).name("period"), *by).agg(
            expansion_revenue=won.amount.sum(where=won.deal_type == "expansion"),
            renewal_revenue=won.amount.sum(where=won.deal_type == "renewal"),
        )
    )


def pipeline_summary(
    tables: Tables,
    *,
    grain: str | None = "quarter",
    by: tuple[str, ...] | list[str] = (),
    start: object = None,
    end: object = None,
) -> pd.DataFrame:
    """Per period (``grain``) and dimension: pipeline created, deals won and lost, win rate, deal size, cycle.

    Columns: ``period``, dims, ``opportunities_created``, ``pipeline_created``, ``won_deals``, ``lost_deals``,
    ``revenue`` (won amount), ``win_rate = won / (won + lost)`` (closed in the period), ``avg_deal_size``
    (revenue / won deals), ``cycle_days`` (mean days created → closed of won deals) — all over new-business
    deals, so ``revenue`` is ``new_revenue`` and ``win_rate`` the catalog's ``win_rate`` — then
    ``expansion_revenue`` and ``renewal_revenue`` (won in the period), which are not part of ``revenue``.
    """
    by = tuple(by)
    opps = _with_dims(tables, new_business(tables.table("opportunities")), by)
    s, e = as_timestamp(start), as_timestamp(end)
    created = opps.filter(in_range(opps.created_at, s, e))
    created = created.group_by(bucket(created.created_at, grain).name("period"), *by).agg(
        opportunities_created=created.count(), pipeline_created=created.amount.sum()
    )
    closed = opps.filter(opps.is_closed & opps.closed_at.notnull() & in_range(opps.closed_at, s, e))
    cycle = (closed.closed_at.epoch_seconds() - closed.created_at.epoch_seconds()) / 86400.0
    closed = closed.group_by(bucket(closed.closed_at, grain).name("period"), *by).agg(
        won_deals=closed.is_won.sum(),
        lost_deals=(~closed.is_won).sum(),
        revenue=closed.amount.sum(where=closed.is_won),
        cycle_days=cycle.mean(where=closed.is_won),
    )
    keys = ["period", *by]
    frame = pd.DataFrame(columns=keys)
    for part in (tables.to_pandas(created), tables.to_pandas(closed), _other_revenue(tables, grain, by, s, e)):
        if not part.empty:
            frame = part if frame.empty else frame.merge(part, on=keys, how="outer")
    for c in ("opportunities_created", "won_deals", "lost_deals"):
        frame[c] = frame.get(c, pd.Series(dtype="float64")).fillna(0).astype("int64")
    for c in ("pipeline_created", "revenue", "expansion_revenue", "renewal_revenue"):
        frame[c] = frame.get(c, pd.Series(dtype="float64")).fillna(0.0).astype("float64")
    frame["cycle_days"] = frame.get("cycle_days", pd.Series(dtype="float64")).astype("float64")
    frame["win_rate"] = _ratio(frame["won_deals"], frame["won_deals"] + frame["lost_deals"])
    frame["avg_deal_size"] = _ratio(frame["revenue"], frame["won_deals"])
    if grain is not None and not frame.empty:
        frame["period"] = pd.to_datetime(frame["period"]).dt.date
    cols = [*keys, "opportunities_created", "pipeline_created", "won_deals", "lost_deals", "revenue", "win_rate"]
    frame = frame[[*cols, "avg_deal_size", "cycle_days", "expansion_revenue", "renewal_revenue"]]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def pipeline_velocity(
    tables: Tables,
    *,
    by: tuple[str, ...] | list[str] = (),
    start: object = None,
    end: object = None,
) -> pd.DataFrame:
    """Pipeline velocity per dimension: ``open × win_rate × avg_deal_size / cycle_days`` (revenue per day).

    ``open_opportunities`` are open now; ``win_rate``, ``avg_deal_size`` and ``cycle_days`` come from deals
    closed in ``[start, end)`` (all closed deals by default).
    """
    by = tuple(by)
    opps = _with_dims(tables, new_business(tables.table("opportunities")), by)
    s, e = as_timestamp(start), as_timestamp(end)
    closed = opps.filter(opps.is_closed & opps.closed_at.notnull() & in_range(opps.closed_at, s, e))
    cycle = (closed.closed_at.epoch_seconds() - closed.created_at.epoch_seconds()) / 86400.0
    hist = _grouped(
        closed,
        by,
        won_deals=closed.is_won.sum(),
        closed_deals=closed.count(),
        revenue=closed.amount.sum(where=closed.is_won),
        cycle_days=cycle.mean(where=closed.is_won),
    )
    live = opps.filter(~opps.is_closed)
    open_ = _grouped(live, by, open_opportunities=live.count(), open_amount=live.amount.sum())
    h, o = tables.to_pandas(hist), tables.to_pandas(open_)
    frame = h.merge(o, on=list(by), how="outer") if by and not (h.empty or o.empty) else pd.concat([h, o], axis=1)
    for c in ("won_deals", "closed_deals", "open_opportunities"):
        frame[c] = frame[c].fillna(0).astype("int64")
    for c in ("revenue", "open_amount"):
        frame[c] = frame[c].fillna(0.0).astype("float64")
    frame["win_rate"] = _ratio(frame["won_deals"], frame["closed_deals"])
    frame["avg_deal_size"] = _ratio(frame["revenue"], frame["won_deals"])
    frame["cycle_days"] = frame["cycle_days"].astype("float64")
    frame["velocity_per_day"] = (
        frame["open_opportunities"]
        * frame["win_rate"]
        * frame["avg_deal_size"]
        / frame["cycle_days"].where(lambda x: x > 0)
    )
    cols = [*by, "open_opportunities", "open_amount", "win_rate", "avg_deal_size", "cycle_days", "velocity_per_day"]
    return frame[cols].sort_values(list(by), kind="stable").reset_index(drop=True) if by else frame[cols]


def stage_win_rates(tables: Tables, *, start: object = None, end: object = None) -> pd.DataFrame:
    """Historical stage-to-win rates: of the closed deals (closed in ``[start, end)``) that reached a stage,
    the share that were won. A deal reached every stage it has a ledger stage event for."""
    opps, ledger = new_business(tables.table("opportunities")), tables.table("ledger")
    closed = opps.filter(opps.is_closed & opps.closed_at.notnull())
    closed = closed.filter(in_range(closed.closed_at, as_timestamp(start), as_timestamp(end)))
    closed = closed.select(c_id=closed.opportunity_id, is_won=closed.is_won)
    st = ledger.filter((ledger.kind == "stage") & (ledger.entity_type == "opportunity"))
    st = st.select(o_id=st.entity_id, stage=st.name).distinct()
    j = st.join(closed, st.o_id == closed.c_id)
    agg = j.group_by("stage").agg(closed_deals=j.count(), won_deals=j.is_won.sum())
    frame = tables.to_pandas(agg)
    frame = frame[frame["stage"].isin([s for s in OPPORTUNITY_STAGES if s != "closed_lost"])]
    frame["win_rate"] = _ratio(frame["won_deals"], frame["closed_deals"])
    order = {s: i for i, s in enumerate(OPPORTUNITY_STAGES)}
    frame = frame.assign(stage_index=frame["stage"].map(order)).sort_values("stage_index")
    return frame[["stage", "stage_index", "closed_deals", "won_deals", "win_rate"]].reset_index(drop=True)


def stage_weighted_pipeline(
    tables: Tables,
    *,
    by: tuple[str, ...] | list[str] = (),
    start: object = None,
    end: object = None,
) -> pd.DataFrame:
    """Open pipeline by current stage (and dims), weighted by the historical win rate from that stage.

    Columns: ``stage``, dims, ``open_deals``, ``open_amount``, ``win_rate`` (from :func:`stage_win_rates` over
    deals closed in ``[start, end)``), ``weighted_amount = open_amount × win_rate``.
    """
    by = tuple(by)
    rates = stage_win_rates(tables, start=start, end=end)
    opps = _with_dims(tables, new_business(tables.table("opportunities")), by)
    live = opps.filter(~opps.is_closed)
    agg = live.group_by("stage", *by).agg(open_deals=live.count(), open_amount=live.amount.sum())
    frame = tables.to_pandas(agg)
    frame["open_deals"] = frame["open_deals"].astype("int64")
    frame["open_amount"] = frame["open_amount"].fillna(0.0).astype("float64")
    frame = frame.merge(rates[["stage", "stage_index", "win_rate"]], on="stage", how="left")
    frame["weighted_amount"] = frame["open_amount"] * frame["win_rate"]
    cols = ["stage", "stage_index", *by, "open_deals", "open_amount", "win_rate", "weighted_amount"]
    return frame[cols].sort_values(["stage_index", *by], kind="stable").reset_index(drop=True)


def pipeline_coverage(
    tables: Tables,
    *,
    by_owner: bool = False,
    as_of: object = None,
) -> pd.DataFrame:
    """Coverage per quota period: open pipeline due in the period / quota still to close.

    ``quota`` sums the quotas of the period (per owner with ``by_owner``); ``won`` is won amount closed in the
    period; ``open_due`` the amount of deals open now whose close date is in the period;
    ``coverage = open_due / (quota - won)`` (null once the quota is met). Periods are those of the quota table.
    """
    quotas, opps = tables.table("quotas"), new_business(tables.table("opportunities"))
    keys = ["period_start", "period_end", *(["owner_id"] if by_owner else [])]
    q = quotas.mutate(owner_id=quotas.user_id)
    q = q.group_by(*keys).agg(quota=q.amount.sum())
    periods = quotas.select("period_start", "period_end").distinct()
    o = opps.cross_join(periods)
    close_day = o.closed_at.cast("date")
    won_in = o.is_won & o.closed_at.notnull() & (close_day >= o.period_start) & (close_day <= o.period_end)
    due_in = ~o.is_closed & (o.close_date >= o.period_start) & (o.close_date <= o.period_end)
    if as_of is not None:
        won_in = won_in & (o.closed_at <= as_timestamp(as_of))
    agg = o.group_by(*keys).agg(won=o.amount.sum(where=won_in), open_due=o.amount.sum(where=due_in))
    frame = tables.to_pandas(
        q.left_join(agg, [q[k] == agg[k] for k in keys]).select(*[q[k] for k in keys], "quota", "won", "open_due")
    )
    frame["won"] = frame["won"].fillna(0.0).astype("float64")
    frame["open_due"] = frame["open_due"].fillna(0.0).astype("float64")
    remaining = frame["quota"] - frame["won"]
    frame["remaining_quota"] = remaining.clip(lower=0.0)
    frame["coverage"] = _ratio(frame["open_due"], remaining)
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


__all__ = [
    "pipeline_coverage",
    "pipeline_summary",
    "pipeline_velocity",
    "stage_weighted_pipeline",
    "stage_win_rates",
]
