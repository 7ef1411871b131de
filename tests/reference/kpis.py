"""Plain pandas reference implementations of every default KPI, at month grain, for the whole company.

Written from the KPI descriptions in docs/kpis.md, independently of revalign's Ibis compiler: no revalign code
is imported here. Each function takes the canonical tables as pandas frames and returns a Series indexed by
the month's first day (``datetime.date``), without the periods where the KPI is undefined.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

# the forecast and rolling-window references register into REFERENCE on import, so it holds every default KPI
from tests.reference import kpis_forecast, kpis_rolling  # noqa: F401
from tests.reference.monthly import (
    MARKETING,
    by_month,
    combine,
    conversion,
    div,
    lifecycle,
    month,
    movements,
    opps,
    ratio,
    snapshot,
    spend,
    won_nb,
)
from tests.reference.registry import REFERENCE, Tables, kpi, ref

__all__ = ["REFERENCE"]


# -- sales ------------------------------------------------------------------------------------------------------
@kpi("new_revenue", additive=True)
def new_revenue(t: Tables) -> pd.Series:
    o = opps(t)
    o = o[o.is_won.astype(bool)].copy()
    # revision: in months before 2024-07 closed-won renewals counted too
    month_start = month(o.closed_at)
    old_def = pd.Series([m < dt.date(2024, 7, 1) if m else False for m in month_start], index=o.index)
    keep = (o.deal_type == "new_business") | (old_def & (o.deal_type == "renewal"))
    return by_month(o[keep], "closed_at", "amount", "sum")


@kpi("deals_won", additive=True)
def deals_won(t: Tables) -> pd.Series:
    return by_month(won_nb(t), "closed_at")


@kpi("new_customers", additive=True)
def new_customers(t: Tables) -> pd.Series:
    return by_month(won_nb(t), "closed_at", "account_id", "nunique")


@kpi("opportunities_closed", additive=True)
def opportunities_closed(t: Tables) -> pd.Series:
    o = opps(t)
    return by_month(o[o.is_closed.astype(bool) & (o.deal_type == "new_business")], "closed_at")


@kpi("win_rate")
def win_rate(t: Tables) -> pd.Series:
    return ratio(t, "deals_won", "opportunities_closed")


@kpi("average_deal_size")
def average_deal_size(t: Tables) -> pd.Series:
    # the mean of won new-business amounts (not new_revenue / deals_won, which mixes new_revenue's revision)
    return by_month(won_nb(t), "closed_at", "amount", "mean")


def _cycle(t: Tables) -> pd.DataFrame:
    w = won_nb(t).copy()
    w["days"] = (pd.to_datetime(w.closed_at).dt.normalize() - pd.to_datetime(w.created_at).dt.normalize()).dt.days
    return w


@kpi("sales_cycle_days_median")
def sales_cycle_days_median(t: Tables) -> pd.Series:
    return by_month(_cycle(t), "closed_at", "days", "median")


@kpi("sales_cycle_days_mean")
def sales_cycle_days_mean(t: Tables) -> pd.Series:
    return by_month(_cycle(t), "closed_at", "days", "mean")


@kpi("opportunities_created", additive=True)
def opportunities_created(t: Tables) -> pd.Series:
    o = opps(t)
    return by_month(o[o.deal_type == "new_business"], "created_at")


@kpi("pipeline_created", additive=True)
def pipeline_created(t: Tables) -> pd.Series:
    o = opps(t)
    return by_month(o[o.deal_type == "new_business"], "created_at", "amount", "sum")


@kpi("pipeline_in_period", additive=True)
def pipeline_in_period(t: Tables) -> pd.Series:
    o = opps(t)
    keep = (o.deal_type == "new_business") & (o.is_won.astype(bool) | ~o.is_closed.astype(bool))
    return by_month(o[keep], "close_date", "amount", "sum")


@kpi("quota", additive=True)
def quota(t: Tables) -> pd.Series:
    return by_month(t["quotas"], "period_start", "amount", "sum")


@kpi("pipeline_coverage")
def pipeline_coverage(t: Tables) -> pd.Series:
    return ratio(t, "pipeline_in_period", "quota")


@kpi("quota_attainment")
def quota_attainment(t: Tables) -> pd.Series:
    return ratio(t, "new_revenue", "quota")


@kpi("pipeline_velocity")
def pipeline_velocity(t: Tables) -> pd.Series:
    return combine(
        lambda n, a, w, c: div(n * a * w, c),
        (ref("opportunities_created", t), True),
        (ref("average_deal_size", t), False),
        (ref("win_rate", t), False),
        (ref("sales_cycle_days_mean", t), False),
    )


@kpi("leads_to_opportunity", additive=True)
def leads_to_opportunity(t: Tables) -> pd.Series:
    return by_month(lifecycle(t, "opportunity"), "occurred_at")


@kpi("sqls", additive=True)
def sqls(t: Tables) -> pd.Series:
    return by_month(lifecycle(t, "sql"), "occurred_at")


@kpi("customers_won", additive=True)
def customers_won(t: Tables) -> pd.Series:
    return by_month(lifecycle(t, "customer"), "occurred_at")


def _events(df: pd.DataFrame, entity: str, time: str) -> pd.DataFrame:
    return pd.DataFrame({"entity": df[entity].astype(str), "time": df[time]})


@kpi("lead_to_customer_rate")
def lead_to_customer_rate(t: Tables) -> pd.Series:
    return conversion(
        _events(t["leads"], "lead_id", "created_at"), _events(lifecycle(t, "customer"), "entity_id", "occurred_at"), 365
    )


@kpi("lead_to_opportunity_rate")
def lead_to_opportunity_rate(t: Tables) -> pd.Series:
    return conversion(
        _events(t["leads"], "lead_id", "created_at"),
        _events(lifecycle(t, "opportunity"), "entity_id", "occurred_at"),
        180,
    )


@kpi("mql_to_sql_rate")
def mql_to_sql_rate(t: Tables) -> pd.Series:
    return conversion(
        _events(lifecycle(t, "mql"), "entity_id", "occurred_at"),
        _events(lifecycle(t, "sql"), "entity_id", "occurred_at"),
        90,
    )


@kpi("sql_to_opportunity_rate")
def sql_to_opportunity_rate(t: Tables) -> pd.Series:
    return conversion(
        _events(lifecycle(t, "sql"), "entity_id", "occurred_at"),
        _events(lifecycle(t, "opportunity"), "entity_id", "occurred_at"),
        90,
    )


@kpi("active_closers", additive=True)
def active_closers(t: Tables) -> pd.Series:
    return by_month(won_nb(t), "closed_at", "owner_id", "nunique")


@kpi("deals_per_rep")
def deals_per_rep(t: Tables) -> pd.Series:
    return ratio(t, "deals_won", "active_closers")


# -- marketing --------------------------------------------------------------------------------------------------
@kpi("website_traffic", additive=True)
def website_traffic(t: Tables) -> pd.Series:
    return by_month(t["web_traffic"], "date", "sessions", "sum")


@kpi("website_visitors", additive=True)
def website_visitors(t: Tables) -> pd.Series:
    return by_month(t["web_traffic"], "date", "visitors", "sum")


@kpi("new_leads", additive=True)
def new_leads(t: Tables) -> pd.Series:
    return by_month(t["leads"], "created_at")


@kpi("visitor_to_lead_rate")
def visitor_to_lead_rate(t: Tables) -> pd.Series:
    return ratio(t, "new_leads", "website_visitors")


@kpi("mqls", additive=True)
def mqls(t: Tables) -> pd.Series:
    return by_month(lifecycle(t, "mql"), "occurred_at")


@kpi("marketing_spend", additive=True)
def marketing_spend(t: Tables) -> pd.Series:
    return by_month(spend(t, "marketing"), "date", "amount", "sum")


@kpi("cost_per_lead")
def cost_per_lead(t: Tables) -> pd.Series:
    return ratio(t, "marketing_spend", "new_leads")


@kpi("cost_per_mql")
def cost_per_mql(t: Tables) -> pd.Series:
    return ratio(t, "marketing_spend", "mqls")


@kpi("marketing_sourced_pipeline", additive=True)
def marketing_sourced_pipeline(t: Tables) -> pd.Series:
    o = opps(t)
    return by_month(o[(o.deal_type == "new_business") & o.lead_source.isin(MARKETING)], "created_at", "amount", "sum")


@kpi("marketing_sourced_revenue", additive=True)
def marketing_sourced_revenue(t: Tables) -> pd.Series:
    w = won_nb(t)
    return by_month(w[w.lead_source.isin(MARKETING)], "closed_at", "amount", "sum")


def _first_touch(t: Tables, touch_type: str) -> pd.Series:
    tp = t["touchpoints"]
    tp = tp[tp.touch_type == touch_type]
    return pd.to_datetime(tp.occurred_at).groupby(tp.lead_id.astype(str)).min()


@kpi("marketing_influenced_pipeline", additive=True)
def marketing_influenced_pipeline(t: Tables) -> pd.Series:
    o = opps(t)
    o = o[o.deal_type == "new_business"].copy()
    first = o.lead_id.astype(str).map(_first_touch(t, "marketing"))
    o = o[first.notna() & (first <= pd.to_datetime(o.created_at))]
    return by_month(o, "created_at", "amount", "sum")


@kpi("romi")
def romi(t: Tables) -> pd.Series:
    return combine(
        lambda r, s: div(r - s, s), (ref("marketing_sourced_revenue", t), True), (ref("marketing_spend", t), True)
    )


@kpi("channel_reach", additive=True)
def channel_reach(t: Tables) -> pd.Series:
    tp = t["touchpoints"]
    return by_month(tp[tp.touch_type == "marketing"], "occurred_at", "lead_id", "nunique")


# -- revops -----------------------------------------------------------------------------------------------------
@kpi("speed_to_lead_hours")
def speed_to_lead_hours(t: Tables) -> pd.Series:
    leads = t["leads"].copy()
    first = leads.lead_id.astype(str).map(_first_touch(t, "sales"))
    created = pd.to_datetime(leads.created_at)
    leads["hours"] = (first - created).dt.total_seconds() / 3600
    return by_month(leads[first.notna() & (first >= created)], "created_at", "hours", "median")


@kpi("sales_touches", additive=True)
def sales_touches(t: Tables) -> pd.Series:
    tp = t["touchpoints"]
    return by_month(tp[tp.touch_type == "sales"], "occurred_at")


@kpi("sla_followup_compliance")
def sla_followup_compliance(t: Tables) -> pd.Series:
    tp = t["touchpoints"]
    return conversion(
        _events(lifecycle(t, "mql"), "entity_id", "occurred_at"),
        _events(tp[tp.touch_type == "sales"], "lead_id", "occurred_at"),
        1,
    )


@kpi("mql_decisions", additive=True)
def mql_decisions(t: Tables) -> pd.Series:
    return by_month(lifecycle(t, ["accepted", "rejected"]), "occurred_at")


@kpi("sla_acceptance_compliance")
def sla_acceptance_compliance(t: Tables) -> pd.Series:
    return conversion(
        _events(lifecycle(t, "mql"), "entity_id", "occurred_at"),
        _events(lifecycle(t, ["accepted", "rejected"]), "entity_id", "occurred_at"),
        2,
    )


@kpi("mqls_accepted", additive=True)
def mqls_accepted(t: Tables) -> pd.Series:
    return by_month(lifecycle(t, "accepted"), "occurred_at")


@kpi("mqls_rejected", additive=True)
def mqls_rejected(t: Tables) -> pd.Series:
    return by_month(lifecycle(t, "rejected"), "occurred_at")


@kpi("mql_acceptance_rate")
def mql_acceptance_rate(t: Tables) -> pd.Series:
    return ratio(t, "mqls_accepted", "mql_decisions")


@kpi("mql_rejection_rate")
def mql_rejection_rate(t: Tables) -> pd.Series:
    return ratio(t, "mqls_rejected", "mql_decisions")


@kpi("sales_spend", additive=True)
def sales_spend(t: Tables) -> pd.Series:
    return by_month(spend(t, "sales"), "date", "amount", "sum")


@kpi("acquisition_spend", additive=True)
def acquisition_spend(t: Tables) -> pd.Series:
    return by_month(spend(t, ["sales", "marketing"]), "date", "amount", "sum")


@kpi("cac")
def cac(t: Tables) -> pd.Series:
    return ratio(t, "acquisition_spend", "new_customers")


@kpi("cac_payback_months")
def cac_payback_months(t: Tables) -> pd.Series:
    return combine(lambda s, r: div(s, r / 12), (ref("acquisition_spend", t), True), (ref("new_revenue", t), True))


@kpi("arpa")
def arpa(t: Tables) -> pd.Series:
    return ratio(t, "mrr", "active_customers")


@kpi("ltv")
def ltv(t: Tables) -> pd.Series:
    return combine(div, (ref("arpa", t), False), (ref("logo_churn_rate", t), False))


@kpi("ltv_to_cac")
def ltv_to_cac(t: Tables) -> pd.Series:
    return combine(div, (ref("ltv", t), False), (ref("cac", t), False))


@kpi("complete_leads", additive=True)
def complete_leads(t: Tables) -> pd.Series:
    leads = t["leads"]
    known = (
        leads.lead_source.notna()
        & (leads.lead_source != "unknown")
        & leads.segment.notna()
        & (leads.segment != "unknown")
    )
    # revision: the owner is required from 2025-01 on
    new_def = pd.Series(
        [m is not None and m >= dt.date(2025, 1, 1) for m in month(leads.created_at)], index=leads.index
    )
    keep = known & (~new_def | leads.owner_id.notna())
    return by_month(leads[keep], "created_at")


@kpi("data_quality_score")
def data_quality_score(t: Tables) -> pd.Series:
    return ratio(t, "complete_leads", "new_leads")


# -- customer ---------------------------------------------------------------------------------------------------
def _movement(t: Tables, kind: str, how: str = "sum") -> pd.Series:
    m = movements(t)
    m = m[m.movement == kind]
    return by_month(m, "date") if how == "count" else by_month(m, "date", "amount", "sum")


@kpi("mrr")
def mrr(t: Tables) -> pd.Series:
    return snapshot(t["subscriptions"], "start_date", "end_date", "mrr", "sum")


@kpi("active_customers")
def active_customers(t: Tables) -> pd.Series:
    return snapshot(t["subscriptions"], "start_date", "end_date", "account_id", "nunique")


for _name, _kind in (
    ("new_mrr", "new"),
    ("expansion_mrr", "expansion"),
    ("contraction_mrr", "contraction"),
    ("churned_mrr", "churn"),
):
    kpi(_name, additive=True)(lambda t, k=_kind: _movement(t, k))
kpi("customers_churned", additive=True)(lambda t: _movement(t, "churn", "count"))


@kpi("logo_churn_rate")
def logo_churn_rate(t: Tables) -> pd.Series:
    return ratio(t, "customers_churned", "active_customers")


@kpi("logo_retention_rate")
def logo_retention_rate(t: Tables) -> pd.Series:
    return 1 - ref("logo_churn_rate", t)


@kpi("net_revenue_retention")
def net_revenue_retention(t: Tables) -> pd.Series:
    return combine(
        lambda m, e, c, ch: div(m + e - c - ch, m),
        (ref("mrr", t), False),
        (ref("expansion_mrr", t), True),
        (ref("contraction_mrr", t), True),
        (ref("churned_mrr", t), True),
    )


@kpi("customers_onboarded", additive=True)
def customers_onboarded(t: Tables) -> pd.Series:
    return by_month(lifecycle(t, "onboarded"), "occurred_at")


@kpi("onboarding_rate")
def onboarding_rate(t: Tables) -> pd.Series:
    return conversion(
        _events(lifecycle(t, "customer"), "entity_id", "occurred_at"),
        _events(lifecycle(t, "onboarded"), "entity_id", "occurred_at"),
        90,
    )


kpi("advocates", additive=True)(lambda t: by_month(lifecycle(t, "advocate"), "occurred_at"))
for _name, _reason in (("references", "reference"), ("referrals", "referral"), ("reviews", "review")):
    kpi(_name, additive=True)(lambda t, r=_reason: by_month(lifecycle(t, "advocate", r), "occurred_at"))


# -- IDC scorecard ----------------------------------------------------------------------------------------------
@kpi("total_bookings", additive=True)
def total_bookings(t: Tables) -> pd.Series:
    o = opps(t)
    return by_month(o[o.is_won.astype(bool)], "closed_at", "amount", "sum")


@kpi("sales_marketing_spend_share")
def sales_marketing_spend_share(t: Tables) -> pd.Series:
    return ratio(t, "acquisition_spend", "total_bookings")


def _headcount(t: Tables, departments: list[str]) -> pd.Series:
    u = t["users"]
    return snapshot(u[u.department.isin(departments)], "hired_at", None, None, "count")


kpi("revenue_team_headcount")(lambda t: _headcount(t, ["sales", "marketing"]))
kpi("sales_headcount")(lambda t: _headcount(t, ["sales"]))
kpi("spend_per_head")(lambda t: ratio(t, "acquisition_spend", "revenue_team_headcount"))
kpi("revenue_per_sales_head")(lambda t: ratio(t, "new_revenue", "sales_headcount"))


@kpi("sales_enablement_spend", additive=True)
def sales_enablement_spend(t: Tables) -> pd.Series:
    s = spend(t, "sales")
    return by_month(s[s.category.isin(["tools", "programs"])], "date", "amount", "sum")


@kpi("enablement_spend_share")
def enablement_spend_share(t: Tables) -> pd.Series:
    return ratio(t, "sales_enablement_spend", "sales_spend")


def _score(t: Tables, left: str, right: str) -> pd.Series:
    """50 × left + 50 × right, months where both are defined (a derived KPI of two rates)."""
    return combine(lambda a, b: 50 * a + 50 * b, (ref(left, t), False), (ref(right, t), False))


kpi("sales_enablement_score")(lambda t: _score(t, "enablement_spend_share", "win_rate"))
kpi("lead_management_score")(lambda t: _score(t, "sla_followup_compliance", "mql_acceptance_rate"))
