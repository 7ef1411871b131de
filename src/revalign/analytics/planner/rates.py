"""⑤ Live funnel rates for the reverse-funnel planner: average deal size, stage-to-stage yields, cycle-time lags and
cost per lead per channel, measured over a recent window of the canonical tables.

**Stage counts** are the catalog's own KPIs (:data:`STAGES`: ``new_leads``, ``mqls``, ``sqls``,
``opportunities_created``, ``deals_won``, ``new_revenue``), evaluated by month, so the planner plans the numbers the
scorecard reports.

**Lags.** ``lag_days[stage]`` is the median number of days from a lead's creation to its reaching the stage, over the
leads that reached it in the window (the ledger's lifecycle rows for MQL and SQL; the opportunity's ``created_at`` and,
for won deals, ``closed_at`` through ``opportunities.lead_id``). ``lag_months`` rounds it to whole months
(30.44 days): volumes a revenue period needs are due that many months earlier.

**Yields are lag-adjusted flow ratios.** The yield from stage *a* to the next stage *b* is

    count_b(window) ÷ count_a(window shifted back by lag_months[b] − lag_months[a])

so the leads counted are the ones that fed the window's MQLs, not the window's own leads. A cohort rate (the share of
a month's leads that ever convert) needs finished cohorts, a year back for enterprise cycles; a flow ratio uses
every recent month, and in a company whose volumes grow the lag shift keeps it unbiased. The win yield is won
deals per opportunity *created* (not won ÷ closed), because the planner turns opportunities created into deals won.

**Channels.** Each channel's share of the window's leads (``lead_source``) and its cost per lead (spend rows of that
channel ÷ its leads; a channel with no spend costs nothing per lead). Spend with no channel (salaries, tools) is
overhead and stays out of the per-channel plan. The cost per lead is an average: with diminishing returns on media
spend the next lead costs more than the average one, so a plan far above today's volume understates its spend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import ibis
import pandas as pd

from revalign.definitions.kpis.catalog import Catalog
from revalign.jsonsafe import jsonable
from revalign.kpis.query import evaluate
from revalign.model.access import Tables
from revalign.model.calendar import add_periods

STAGES: tuple[str, ...] = ("new_leads", "mqls", "sqls", "opportunities_created", "deals_won")
"""The volume stages of the reverse funnel, top to bottom, by their KPI names (the driver tree's nodes)."""
REVENUE_KPI = "new_revenue"
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class LiveRates:
    """What the planner divides by: measured over ``[start, end)`` (whole months)."""

    start: dt.date
    end: dt.date
    average_deal_size: float
    yields: Mapping[str, float]
    """Stage → the yield *into* it from the stage above (``mqls``: MQLs per lead); ``new_leads`` has none."""
    lag_days: Mapping[str, float]
    """Stage → median days from lead creation to reaching it (``new_leads``: 0)."""
    channels: pd.DataFrame = field(default_factory=pd.DataFrame)
    """``channel, leads, share, spend, cost_per_lead`` over the window, largest share first."""

    @property
    def lag_months(self) -> dict[str, int]:
        """Stage → whole months between a lead's creation and its reaching the stage."""
        return {s: round(d / DAYS_PER_MONTH) for s, d in self.lag_days.items()}

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "start": self.start,
                "end": self.end,
                "average_deal_size": self.average_deal_size,
                "yields": dict(self.yields),
                "lag_days": dict(self.lag_days),
                "lag_months": self.lag_months,
                "channels": self.channels.to_dict(orient="records"),
            }
        )


def _monthly(tables: Tables, catalog: Catalog, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Month start × stage KPI → value over ``[start, end)`` (a month without events is 0)."""
    values = evaluate(tables, catalog, [*STAGES, REVENUE_KPI], grain="month", start=start, end=end)
    frame = values.pivot_table(index="period_start", columns="kpi", values="value", aggfunc="sum")
    months = []
    m = start
    while m < end:
        months.append(m)
        m = add_periods(m, "month", 1)
    frame.index = [pd.Timestamp(i).date() for i in frame.index]
    return frame.reindex(index=months, columns=[*STAGES, REVENUE_KPI]).fillna(0.0)


def _days(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    return (later.epoch_seconds() - earlier.epoch_seconds()) / 86400.0


def lag_days(tables: Tables, start: dt.date, end: dt.date) -> dict[str, float]:
    """Stage → median days from lead creation to the stage, over the leads reaching it in ``[start, end)``."""
    leads = tables.table("leads").select("lead_id", lead_created="created_at")
    led = tables.table("ledger")
    life = led.filter((led.entity_type == "lead") & (led.kind == "lifecycle") & led.name.isin(["mql", "sql"]))
    life = life.filter((life.occurred_at >= start) & (life.occurred_at < end))
    life = life.join(leads, life.entity_id == leads.lead_id)
    life = life.mutate(days=_days(life.occurred_at, life.lead_created))
    parts = life.group_by(stage=life.name).aggregate(days=life.days.quantile(0.5))
    opps = tables.table("opportunities")
    opps = opps.filter(opps.deal_type == "new_business").join(leads, opps.lead_id == leads.lead_id)
    created = opps.filter((opps.created_at >= start) & (opps.created_at < end))
    won = opps.filter(opps.is_won & (opps.closed_at >= start) & (opps.closed_at < end))
    frame = tables.to_pandas(parts)
    out = {"mql" if r["stage"] == "mql" else "sql": float(r["days"]) for r in frame.to_dict(orient="records")}
    opp_days = tables.execute(_days(created.created_at, created.lead_created).quantile(0.5))
    won_days = tables.execute(_days(won.closed_at, won.lead_created).quantile(0.5))
    lags = {"new_leads": 0.0, "mqls": out.get("mql"), "sqls": out.get("sql")}
    lags.update(opportunities_created=opp_days, deals_won=won_days)
    return {k: float(v) if v is not None and not pd.isna(v) else 0.0 for k, v in lags.items()}


def channel_mix(tables: Tables, start: dt.date, end: dt.date) -> pd.DataFrame:
    """``channel, leads, share, spend, cost_per_lead`` over ``[start, end)``, largest share first."""
    leads = tables.table("leads")
    leads = leads.filter((leads.created_at >= start) & (leads.created_at < end))
    counts = tables.to_pandas(
        leads.group_by(channel=leads.lead_source.fill_null("unknown")).aggregate(leads=leads.lead_id.count())
    )
    spend = tables.table("spend")
    spend = spend.filter(spend.channel.notnull() & (spend.date >= start) & (spend.date < end))
    spent = tables.to_pandas(spend.group_by("channel").aggregate(spend=spend.amount.sum()))
    frame = counts.merge(spent, on="channel", how="left") if not counts.empty else counts
    if frame.empty:
        return pd.DataFrame(columns=["channel", "leads", "share", "spend", "cost_per_lead"])
    frame["leads"] = frame["leads"].astype(float)
    frame["spend"] = frame["spend"].astype(float).fillna(0.0)
    frame["share"] = frame["leads"] / frame["leads"].sum()
    frame["cost_per_lead"] = frame["spend"] / frame["leads"]
    frame = frame.sort_values(["share", "channel"], ascending=[False, True], kind="stable")
    return frame[["channel", "leads", "share", "spend", "cost_per_lead"]].reset_index(drop=True)


def _shifted_sum(monthly: pd.DataFrame, column: str, months: list[dt.date], shift: int) -> float:
    """The sum of ``column`` over ``months`` each moved ``shift`` months earlier."""
    wanted = [add_periods(m, "month", -shift) for m in months]
    return float(monthly[column].reindex(wanted).fillna(0.0).sum())


def live_rates(tables: Tables, catalog: Catalog, *, end: dt.date, months: int = 12) -> LiveRates:
    """The live rates over the ``months`` whole months before ``end`` (a month's first day, exclusive)."""
    if end.day != 1:
        raise ValueError(f"end must be the first day of a month; got {end}")
    start = add_periods(end, "month", -months)
    lags = lag_days(tables, start, end)
    lag_m = {s: round(d / DAYS_PER_MONTH) for s, d in lags.items()}
    deepest = max(0, *(lag_m[b] - lag_m[a] for a, b in pairwise(STAGES)))
    monthly = _monthly(tables, catalog, add_periods(start, "month", -deepest), end)
    window = [add_periods(start, "month", i) for i in range(months)]
    yields: dict[str, float] = {}
    for above, stage in pairwise(STAGES):
        base = _shifted_sum(monthly, above, window, max(0, lag_m[stage] - lag_m[above]))
        yields[stage] = _shifted_sum(monthly, stage, window, 0) / base if base else float("nan")
    won = _shifted_sum(monthly, "deals_won", window, 0)
    deal = _shifted_sum(monthly, REVENUE_KPI, window, 0) / won if won else float("nan")
    return LiveRates(start, end, deal, yields, lags, channel_mix(tables, start, end))


__all__ = ["DAYS_PER_MONTH", "REVENUE_KPI", "STAGES", "LiveRates", "channel_mix", "lag_days", "live_rates"]
