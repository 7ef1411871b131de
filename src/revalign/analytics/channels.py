"""Channel productivity: one table per lead source or campaign, from spend to revenue.

Every row answers "what did this channel (or campaign) cost and what did it bring" for events in
``[start, end)``: spend, traffic, leads, cost per lead, MQLs, cost per MQL, SQLs, opportunities, pipeline, won
deals, revenue, CAC, ROMI and sales cycle. Two crediting rules:

- ``sourced`` (first touch): each lead belongs to the channel/campaign of its first touchpoint, or, with no
  touchpoint, to its CRM lead source/campaign; opportunities without a lead use their own lead source. Rows sum
  to the company totals.
- ``influenced`` (any touch): a lead's event counts for every channel/campaign that touched the lead at or
  before that event (plus its sourcing channel). An event is counted once per channel, but rows sum to more
  than the totals, by design.

Each event counts in the period it happened in (a lead when created, an MQL at its first MQL, a deal when
created or closed), so this is a period view; use a cohort funnel by channel for conversion rates.

Deals are new-business deals only (:mod:`revalign.analytics.revenue`): ``revenue`` is the channel's share of the
catalog's ``new_revenue`` and the sourced rows sum to it. Renewals and expansions have no channel; see
:func:`revalign.analytics.revenue.revenue_by_deal_type` for them.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.funnel.periods import as_timestamp, in_range
from revalign.analytics.revenue import new_business
from revalign.errors import ConfigError
from revalign.model.access import Tables

KEYS = ("channel", "campaign_id")
METRICS = ("lead", "mql", "sql", "opportunity", "won")
COLUMNS = [
    "spend",
    "sessions",
    "leads",
    "cost_per_lead",
    "mqls",
    "cost_per_mql",
    "sqls",
    "opportunities",
    "pipeline",
    "won_deals",
    "revenue",
    "cac",
    "romi",
    "cycle_days",
]

_S = dt.String(nullable=True)
_F = dt.Float64(nullable=True)
_T = dt.Timestamp(nullable=True)


def _facts(tables: Tables) -> ir.Table:
    """One row per counted event: uid, metric, lead (may be null for deals without a lead), time, amount, cycle.

    Deals are new-business deals: renewals and expansions are not acquisition and have no channel."""
    leads, opps, ledger = tables.table("leads"), new_business(tables.table("opportunities")), tables.table("ledger")
    lead_rows = leads.select(
        uid=leads.lead_id.cast(_S),
        metric=ibis.literal("lead").cast(_S),
        lead_id=leads.lead_id.cast(_S),
        fallback=leads.lead_source.cast(_S),
        t=leads.created_at.cast(_T),
        amount=ibis.null().cast(_F),
        cycle=ibis.null().cast(_F),
    )
    lc = ledger.filter((ledger.kind == "lifecycle") & (ledger.entity_type == "lead") & ledger.name.isin(("mql", "sql")))
    firsts = lc.group_by(lead_id=lc.entity_id, metric=lc.name).agg(t=lc.occurred_at.min())
    stage_rows = firsts.select(
        uid=firsts.lead_id.cast(_S),
        metric=firsts.metric.cast(_S),
        lead_id=firsts.lead_id.cast(_S),
        fallback=ibis.null().cast(_S),
        t=firsts.t.cast(_T),
        amount=ibis.null().cast(_F),
        cycle=ibis.null().cast(_F),
    )
    opp_rows = opps.select(
        uid=opps.opportunity_id.cast(_S),
        metric=ibis.literal("opportunity").cast(_S),
        lead_id=opps.lead_id.cast(_S),
        fallback=opps.lead_source.cast(_S),
        t=opps.created_at.cast(_T),
        amount=opps.amount.cast(_F),
        cycle=ibis.null().cast(_F),
    )
    won = opps.filter(opps.is_won & opps.closed_at.notnull())
    won_rows = won.select(
        uid=won.opportunity_id.cast(_S),
        metric=ibis.literal("won").cast(_S),
        lead_id=won.lead_id.cast(_S),
        fallback=won.lead_source.cast(_S),
        t=won.closed_at.cast(_T),
        amount=won.amount.cast(_F),
        cycle=((won.closed_at.epoch_seconds() - won.created_at.epoch_seconds()) / 86400.0).cast(_F),
    )
    facts = ibis.union(lead_rows, stage_rows, opp_rows, won_rows)
    # a lead's CRM source is the fallback for its own MQL/SQL rows too
    src = leads.select(s_id=leads.lead_id, s_src=leads.lead_source, s_camp=leads.campaign_id)
    facts = facts.left_join(src, facts.lead_id == src.s_id)
    return facts.select(
        "uid",
        "metric",
        "lead_id",
        "t",
        "amount",
        "cycle",
        fallback=ibis.coalesce(facts.s_src, facts.fallback).cast(_S),
        fallback_campaign=facts.s_camp.cast(_S),
    )


def _first_touch(tables: Tables) -> ir.Table:
    tp = tables.table("touchpoints")
    ranked = tp.mutate(_rn=ibis.row_number().over(group_by=tp.lead_id, order_by=[tp.occurred_at, tp.touchpoint_id]))
    first = ranked.filter(ranked._rn == 0)
    return first.select(f_lead=first.lead_id, f_channel=first.channel, f_campaign=first.campaign_id)


def _credited(tables: Tables, facts: ir.Table, attribution: str) -> ir.Table:
    """``facts`` with ``channel`` and ``campaign_id`` credited by the attribution rule (maybe several per fact)."""
    first = _first_touch(tables)
    j = facts.left_join(first, facts.lead_id == first.f_lead)
    has_touch = j.f_lead.notnull()
    sourced = j.select(
        "uid",
        "metric",
        "amount",
        "cycle",
        channel=has_touch.ifelse(j.f_channel, j.fallback).fill_null("unknown").cast(_S),
        campaign_id=has_touch.ifelse(j.f_campaign, j.fallback_campaign).cast(_S),
    )
    if attribution == "sourced":
        return sourced
    tp = tables.table("touchpoints")
    tp = tp.select(i_lead=tp.lead_id, i_t=tp.occurred_at, i_channel=tp.channel, i_campaign=tp.campaign_id)
    k = facts.join(tp, [facts.lead_id == tp.i_lead, tp.i_t <= facts.t])
    touched = k.select(
        "uid",
        "metric",
        "amount",
        "cycle",
        channel=k.i_channel.fill_null("unknown").cast(_S),
        campaign_id=k.i_campaign.cast(_S),
    )
    return ibis.union(sourced, touched, distinct=True)


def _aggregate(tables: Tables, facts: ir.Table, by: tuple[str, ...], attribution: str) -> pd.DataFrame:
    """Counts and sums per credited channel/campaign, on the engine."""
    c = _credited(tables, facts, attribution)
    is_ = {m: c.metric == m for m in METRICS}
    agg = c.group_by(*by).agg(
        leads=is_["lead"].sum(),
        mqls=is_["mql"].sum(),
        sqls=is_["sql"].sum(),
        opportunities=is_["opportunity"].sum(),
        pipeline=c.amount.sum(where=is_["opportunity"]),
        won_deals=is_["won"].sum(),
        revenue=c.amount.sum(where=is_["won"]),
        cycle_days=c.cycle.quantile(0.5, where=is_["won"]),
    )
    return tables.to_pandas(agg)


def channel_productivity(
    tables: Tables,
    *,
    by: tuple[str, ...] | list[str] = ("channel",),
    attribution: Literal["sourced", "influenced"] = "sourced",
    start: object = None,
    end: object = None,
) -> pd.DataFrame:
    """Spend → revenue per channel or campaign for events in ``[start, end)``; see the module docstring.

    ``by`` is ``("channel",)``, ``("campaign_id",)`` or both. Ratios are null when the denominator is zero:
    ``cost_per_lead = spend / leads``, ``cost_per_mql = spend / mqls``, ``cac = spend / won_deals``,
    ``romi = (revenue - spend) / spend``; ``cycle_days`` is the median days from creation to win.
    """
    by = tuple(by)
    if not by or any(b not in KEYS for b in by):
        raise ConfigError(f"by must be made of {', '.join(KEYS)}. Got {by!r} instead.")
    if attribution not in ("sourced", "influenced"):
        raise ConfigError(f"attribution must be 'sourced' or 'influenced'. Got {attribution!r} instead.")
    s, e = as_timestamp(start), as_timestamp(end)
    facts = _facts(tables)
    facts = facts.filter(in_range(facts.t, s, e))
    with ExitStack() as cleanup:
        if attribution == "influenced":  # both crediting branches read the facts: materialize them once
            facts = facts.cache()
            cleanup.callback(facts.release)
        frame = _aggregate(tables, facts, by, attribution)
    spend = tables.table("spend")

    spend = spend.filter(in_range(spend.date.cast(_T), s, e))
    spend = tables.to_pandas(spend.group_by(*by).agg(spend=spend.amount.sum()))
    if "channel" in by:  # costs tied to no channel (salaries, tools) stay visible instead of a blank row
        spend["channel"] = spend["channel"].fillna("unallocated")
        spend = spend.groupby(list(by), dropna=False, as_index=False)["spend"].sum()
    web = tables.table("web_traffic")
    web = web.filter(in_range(web.date.cast(_T), s, e))
    web = tables.to_pandas(web.group_by(*by).agg(sessions=web.sessions.sum()))
    for extra in (spend, web):
        if extra.empty:
            continue
        frame = extra if frame.empty else frame.merge(extra, on=list(by), how="outer")
    for col in ("leads", "mqls", "sqls", "opportunities", "won_deals", "sessions"):
        frame[col] = frame.get(col, pd.Series(0, index=frame.index)).fillna(0).astype("int64")
    for col in ("spend", "pipeline", "revenue"):
        frame[col] = frame.get(col, pd.Series(0.0, index=frame.index)).fillna(0.0).astype("float64")
    frame["cycle_days"] = frame.get("cycle_days", pd.Series(float("nan"), index=frame.index)).astype("float64")

    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        return (num / den.where(den > 0)).astype("float64")

    frame["cost_per_lead"] = ratio(frame["spend"], frame["leads"])
    frame["cost_per_mql"] = ratio(frame["spend"], frame["mqls"])
    frame["cac"] = ratio(frame["spend"], frame["won_deals"])
    frame["romi"] = ratio(frame["revenue"] - frame["spend"], frame["spend"])
    frame = frame[[*by, *COLUMNS]]
    return frame.sort_values(list(by), kind="stable", na_position="last").reset_index(drop=True)


__all__ = ["COLUMNS", "channel_productivity"]
