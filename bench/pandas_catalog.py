"""Vectorised pandas for the whole default KPI catalog at month grain: whole company and by each dimension.

The by-dimension baseline of the catalog refresh benchmark (issue #20): what a pandas engineer would write to
compute every default KPI × (company + channel, campaign, segment, region, team, owner) from the canonical
tables, written for speed. No revalign code computes anything here (bench.data only finds the Parquet files):
the KPI definitions are transcribed from the default
catalog YAML (src/revalign/definitions/kpis/default/kpis/), the descriptions tests/reference/kpis.py follows too.
A KPI is sliced by a dimension when every semantic model it reads reaches it (:data:`bench.pandas_facts.REACH`);
the others are left out, as revalign's ``skip_unreachable`` does. tests/kpis/test_sliced_reference.py checks it
against revalign by slice and against the plain references for the whole company.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from bench.pandas_facts import DIMENSIONS, NONE, Facts, Tables, month_start
from bench.pandas_slice import CATALOG, Result, Slice, converted, div, kpi, reach

__all__ = ["CATALOG", "DIMENSIONS", "NONE", "Result", "pandas_catalog", "pandas_catalog_sliced", "reach"]

MARKETING = ["organic_search", "paid_search", "paid_social", "email", "events", "webinar", "content", "direct"]
NEW_REVENUE_REVISION = np.datetime64("2024-07-01", "ns")  # before it, closed-won renewals counted as new revenue
OWNER_REQUIRED = np.datetime64("2025-01-01", "ns")  # complete_leads: the owner is required from this month on


# -- sales --------------------------------------------------------------------------------------------------------
def _won_nb(s: Slice) -> pd.DataFrame:
    o = s["opportunities"]
    return s.once("won_nb", lambda: o[o["is_won"] & (o["deal_type"] == "new_business")])


def _new_revenue_rows(s: Slice) -> pd.DataFrame:
    o = s["opportunities"]
    old = o["m_closed_at"].to_numpy() < NEW_REVENUE_REVISION
    return s.once(
        "new_revenue",
        lambda: o[o["is_won"] & ((o["deal_type"] == "new_business") | (old & (o["deal_type"] == "renewal")))],
    )


OPP = ("opportunities",)
kpi("new_revenue", OPP, additive=True)(lambda s: s.agg(_new_revenue_rows(s), "closed_at", "amount", "sum"))
kpi("deals_won", OPP, additive=True)(lambda s: s.agg(_won_nb(s), "closed_at"))
kpi("new_customers", OPP, additive=True)(lambda s: s.agg(_won_nb(s), "closed_at", "account_id", "nunique"))
kpi("active_closers", OPP, additive=True)(lambda s: s.agg(_won_nb(s), "closed_at", "owner_id", "nunique"))
kpi("average_deal_size", OPP)(lambda s: s.agg(_won_nb(s), "closed_at", "amount", "mean"))
kpi("total_bookings", OPP, additive=True)(
    lambda s: s.agg(s["opportunities"][s["opportunities"]["is_won"]], "closed_at", "amount", "sum")
)


@kpi("opportunities_closed", OPP, additive=True)
def _opportunities_closed(s: Slice) -> pd.Series:
    o = s["opportunities"]
    return s.agg(o[o["is_closed"] & (o["deal_type"] == "new_business")], "closed_at")


def _cycle(s: Slice) -> pd.DataFrame:
    w = _won_nb(s)
    return s.once("cycle", lambda: w.assign(days=(w["d_closed_at"] - w["d_created_at"]).dt.days))


kpi("sales_cycle_days_median", OPP)(lambda s: s.agg(_cycle(s), "closed_at", "days", "median"))
kpi("sales_cycle_days_mean", OPP)(lambda s: s.agg(_cycle(s), "closed_at", "days", "mean"))


def _nb(s: Slice) -> pd.DataFrame:
    o = s["opportunities"]
    return s.once("nb", lambda: o[o["deal_type"] == "new_business"])


kpi("opportunities_created", OPP, additive=True)(lambda s: s.agg(_nb(s), "created_at"))
kpi("pipeline_created", OPP, additive=True)(lambda s: s.agg(_nb(s), "created_at", "amount", "sum"))


@kpi("pipeline_in_period", OPP, additive=True)
def _pipeline_in_period(s: Slice) -> pd.Series:
    o = _nb(s)
    return s.agg(o[o["is_won"] | ~o["is_closed"]], "close_date", "amount", "sum")


kpi("quota", ("quotas",), additive=True)(lambda s: s.agg(s["quotas"], "period_start", "amount", "sum"))
for _name, _num, _den in (
    ("win_rate", "deals_won", "opportunities_closed"),
    ("pipeline_coverage", "pipeline_in_period", "quota"),
    ("quota_attainment", "new_revenue", "quota"),
    ("deals_per_rep", "deals_won", "active_closers"),
    ("visitor_to_lead_rate", "new_leads", "website_visitors"),
    ("cost_per_lead", "marketing_spend", "new_leads"),
    ("cost_per_mql", "marketing_spend", "mqls"),
    ("mql_acceptance_rate", "mqls_accepted", "mql_decisions"),
    ("mql_rejection_rate", "mqls_rejected", "mql_decisions"),
    ("cac", "acquisition_spend", "new_customers"),
    ("arpa", "mrr", "active_customers"),
    ("data_quality_score", "complete_leads", "new_leads"),
    ("logo_churn_rate", "customers_churned", "active_customers"),
    ("sales_marketing_spend_share", "acquisition_spend", "total_bookings"),
    ("spend_per_head", "acquisition_spend", "revenue_team_headcount"),
    ("revenue_per_sales_head", "new_revenue", "sales_headcount"),
    ("enablement_spend_share", "sales_enablement_spend", "sales_spend"),
    ("pipeline_realisation_rate", "new_revenue", "pipeline_in_period"),
    ("forecast_coverage", "pipeline_forecast", "commit_forecast"),
):
    kpi(_name, inputs=(_num, _den))(partial(Slice.ratio, num=_num, den=_den))


@kpi("pipeline_velocity", inputs=("opportunities_created", "average_deal_size", "win_rate", "sales_cycle_days_mean"))
def _pipeline_velocity(s: Slice) -> pd.Series:
    return s.combine(
        lambda n, a, w, c: div(n * a * w, c),
        ("opportunities_created", None),
        ("average_deal_size", None),
        ("win_rate", None),
        ("sales_cycle_days_mean", None),
    )


def _stage(s: Slice, stage: str | list[str], reason: str | None = None) -> pd.DataFrame:
    ev = s["lifecycle"]
    stages = [stage] if isinstance(stage, str) else stage
    keep = ev["name"].isin(stages)
    return s.once(("stage", *stages, reason), lambda: ev[keep & (ev["reason"] == reason)] if reason else ev[keep])


def _stage_count(s: Slice, stage: str | list[str], reason: str | None) -> pd.Series:
    return s.agg(_stage(s, stage, reason), "occurred_at")


LIFE = ("lifecycle_events",)
for _name, _stages, _reason in (
    ("leads_to_opportunity", "opportunity", None),
    ("sqls", "sql", None),
    ("customers_won", "customer", None),
    ("mqls", "mql", None),
    ("mql_decisions", ["accepted", "rejected"], None),
    ("mqls_accepted", "accepted", None),
    ("mqls_rejected", "rejected", None),
    ("customers_onboarded", "onboarded", None),
    ("advocates", "advocate", None),
    ("references", "advocate", "reference"),
    ("referrals", "advocate", "referral"),
    ("reviews", "advocate", "review"),
):
    kpi(_name, LIFE, additive=True)(partial(_stage_count, stage=_stages, reason=_reason))


def _convert(s: Slice, base: str | None, conv: str | list[str], days: float) -> pd.Series:
    """Conversion of lifecycle stage ``base`` (None: lead creation) into ``conv`` (``"sales touch"``: a sales
    touchpoint) within ``days``; the slice is the base event's."""

    def flags() -> pd.DataFrame:
        if base is None:
            b, btime = s["leads"], "created_at"
        else:
            b, btime = _stage(s, base), "occurred_at"
        c = _touches(s, "sales") if conv == "sales touch" else _stage(s, conv)
        return converted(b, "lead", btime, c, "lead", "occurred_at", days)

    key = ("converted", base, *([conv] if isinstance(conv, str) else conv), days)
    return s.agg(s.once(key, flags), "t", "converted", "mean")


LEADS_LIFE = ("leads", "lifecycle_events")
kpi("lead_to_customer_rate", LEADS_LIFE)(lambda s: _convert(s, None, "customer", 365))
kpi("lead_to_opportunity_rate", LEADS_LIFE)(lambda s: _convert(s, None, "opportunity", 180))
kpi("mql_to_sql_rate", LIFE)(lambda s: _convert(s, "mql", "sql", 90))
kpi("sql_to_opportunity_rate", LIFE)(lambda s: _convert(s, "sql", "opportunity", 90))
kpi("sla_followup_compliance", ("lifecycle_events", "touchpoints"))(lambda s: _convert(s, "mql", "sales touch", 1))
kpi("sla_acceptance_compliance", LIFE)(lambda s: _convert(s, "mql", ["accepted", "rejected"], 2))
kpi("onboarding_rate", LIFE)(lambda s: _convert(s, "customer", "onboarded", 90))

# -- marketing ----------------------------------------------------------------------------------------------------
WEB = ("web_traffic",)
kpi("website_traffic", WEB, additive=True)(lambda s: s.agg(s["web_traffic"], "date", "sessions", "sum"))
kpi("website_visitors", WEB, additive=True)(lambda s: s.agg(s["web_traffic"], "date", "visitors", "sum"))
kpi("new_leads", ("leads",), additive=True)(lambda s: s.agg(s["leads"], "created_at"))


def _spend(s: Slice, departments: list[str], categories: list[str] | None = None) -> pd.Series:
    sp = s["spend"]
    keep = sp["department"].isin(departments)
    if categories:
        keep &= sp["category"].isin(categories)
    return s.agg(sp[keep], "date", "amount", "sum")


SPEND = ("spend",)
kpi("marketing_spend", SPEND, additive=True)(lambda s: _spend(s, ["marketing"]))
kpi("sales_spend", SPEND, additive=True)(lambda s: _spend(s, ["sales"]))
kpi("acquisition_spend", SPEND, additive=True)(lambda s: _spend(s, ["sales", "marketing"]))
kpi("sales_enablement_spend", SPEND, additive=True)(lambda s: _spend(s, ["sales"], ["tools", "programs"]))


def _marketing_sourced(s: Slice) -> pd.DataFrame:
    o = _nb(s)
    return s.once("marketing_sourced", lambda: o[o["lead_source"].isin(MARKETING)])


kpi("marketing_sourced_pipeline", OPP, additive=True)(
    lambda s: s.agg(_marketing_sourced(s), "created_at", "amount", "sum")
)


@kpi("marketing_sourced_revenue", OPP, additive=True)
def _marketing_sourced_revenue(s: Slice) -> pd.Series:
    w = _won_nb(s)
    return s.agg(w[w["lead_source"].isin(MARKETING)], "closed_at", "amount", "sum")


def _touches(s: Slice, touch_type: str) -> pd.DataFrame:
    tp = s["touchpoints"]
    return s.once(("touches", touch_type), lambda: tp[tp["touch_type"] == touch_type])


def _first_touch(s: Slice, touch_type: str) -> pd.Series:
    """Each lead's first touch of ``touch_type``, by lead key."""
    first = s.once(
        ("first_touch", touch_type), lambda: _touches(s, touch_type).groupby("lead")["occurred_at"].min().to_frame()
    )
    return first["occurred_at"]


@kpi("marketing_influenced_pipeline", OPP, additive=True)
def _marketing_influenced_pipeline(s: Slice) -> pd.Series:
    def rows() -> pd.DataFrame:
        o = _nb(s)
        first = o["lead"].map(_first_touch(s, "marketing"))
        return o[first.notna() & (first <= pd.to_datetime(o["created_at"]))]

    return s.agg(s.once("influenced", rows), "created_at", "amount", "sum")


@kpi("romi", inputs=("marketing_sourced_revenue", "marketing_spend"))
def _romi(s: Slice) -> pd.Series:
    return s.combine(lambda r, p: div(r - p, p), ("marketing_sourced_revenue", None), ("marketing_spend", None))


@kpi("channel_reach", ("touchpoints",), additive=True)
def _channel_reach(s: Slice) -> pd.Series:
    """Distinct leads touched by marketing: a count of distinct (month, lead) rows, since a lead's segment,
    region, team and owner are the lead's own; by channel or campaign (the touch's own), of (month, lead, it)."""
    own = s.dim if s.dim in ("channel", "campaign") else None
    cols = ["m_occurred_at", "lead", *([own] if own else [])]
    rows = s.once(("reach", own), lambda: _touches(s, "marketing").dropna(subset=["lead"]).drop_duplicates(cols))
    return s.agg(rows, "occurred_at")


kpi("mqls_trailing_90d", inputs=("mqls",))(lambda s: s.trailing(_stage(s, "mql"), "occurred_at", None, days=90))
kpi("marketing_sourced_pipeline_trailing_90d", inputs=("marketing_sourced_pipeline",))(
    lambda s: s.trailing(_marketing_sourced(s), "created_at", "amount", days=90)
)
kpi("new_revenue_ttm", inputs=("new_revenue",))(
    lambda s: s.trailing(_new_revenue_rows(s), "closed_at", "amount", months=12)
)
kpi("new_revenue_ytd", inputs=("new_revenue",))(
    lambda s: s.trailing(_new_revenue_rows(s), "closed_at", "amount", ytd=True)
)


# -- revops -------------------------------------------------------------------------------------------------------
@kpi("speed_to_lead_hours", ("lead_facts",))
def _speed_to_lead_hours(s: Slice) -> pd.Series:
    def rows() -> pd.DataFrame:
        leads = s["leads"]
        first = leads["lead"].map(_first_touch(s, "sales"))
        created = pd.to_datetime(leads["created_at"])
        ok = (first.notna() & (first >= created)).to_numpy()
        return leads[ok].assign(hours=((first - created).dt.total_seconds() / 3600)[ok])

    return s.agg(s.once("speed_to_lead", rows), "created_at", "hours", "median")


@kpi("sales_touches", ("touchpoints",), additive=True)
def _sales_touches(s: Slice) -> pd.Series:
    return s.agg(_touches(s, "sales"), "occurred_at")


@kpi("cac_payback_months", inputs=("acquisition_spend", "new_revenue"))
def _cac_payback_months(s: Slice) -> pd.Series:
    return s.combine(lambda a, r: div(a, r / 12), ("acquisition_spend", None), ("new_revenue", None))


kpi("ltv", inputs=("arpa", "logo_churn_rate"))(lambda s: s.combine(div, ("arpa", None), ("logo_churn_rate", None)))
kpi("ltv_to_cac", inputs=("ltv", "cac"))(lambda s: s.combine(div, ("ltv", None), ("cac", None)))


@kpi("complete_leads", ("leads",), additive=True)
def _complete_leads(s: Slice) -> pd.Series:
    def rows() -> pd.DataFrame:
        leads = s["leads"]
        src, seg = leads["lead_source"], leads["segment"].astype(object)
        known = src.notna() & (src != "unknown") & (seg != NONE) & (seg != "unknown")
        new_def = leads["m_created_at"].to_numpy() >= OWNER_REQUIRED
        return leads[known & (~new_def | leads["owner_id"].notna())]

    return s.agg(s.once("complete_leads", rows), "created_at")


# -- customer -----------------------------------------------------------------------------------------------------
SUBS = ("subscriptions",)
MOVES = ("mrr_movements",)
kpi("mrr", SUBS)(lambda s: s.snapshot(s["subscriptions"], "start_date", "end_date", "mrr", "sum"))
kpi("active_customers", SUBS)(
    lambda s: s.snapshot(s["subscriptions"], "start_date", "end_date", "account_id", "nunique")
)


def _moved(s: Slice, kind: str) -> pd.Series:
    return s.agg(_moves(s, kind), "date", "amount", "sum")


def _moves(s: Slice, kind: str) -> pd.DataFrame:
    mv = s["movements"]
    return s.once(("moves", kind), lambda: mv[mv["movement"] == kind])


for _name, _kind in (
    ("new_mrr", "new"),
    ("expansion_mrr", "expansion"),
    ("contraction_mrr", "contraction"),
    ("churned_mrr", "churn"),
):
    kpi(_name, MOVES, additive=True)(partial(_moved, kind=_kind))
kpi("customers_churned", MOVES, additive=True)(lambda s: s.agg(_moves(s, "churn"), "date"))
kpi("churned_mrr_ttm", inputs=("churned_mrr",))(lambda s: s.trailing(_moves(s, "churn"), "date", "amount", months=12))
kpi("logo_retention_rate", inputs=("logo_churn_rate",))(lambda s: 1 - s.ref("logo_churn_rate"))


@kpi("net_revenue_retention", inputs=("mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"))
def _net_revenue_retention(s: Slice) -> pd.Series:
    return s.combine(
        lambda m, e, c, ch: div(m + e - c - ch, m),
        ("mrr", None),
        ("expansion_mrr", None),
        ("contraction_mrr", None),
        ("churned_mrr", None),
    )


# -- IDC scorecard ------------------------------------------------------------------------------------------------
def _headcount(s: Slice, departments: list[str]) -> pd.Series:
    u = s["users"]
    return s.snapshot(u[u["department"].isin(departments)], "hired_at", None, None, "count")


kpi("revenue_team_headcount", ("users",))(lambda s: _headcount(s, ["sales", "marketing"]))
kpi("sales_headcount", ("users",))(lambda s: _headcount(s, ["sales"]))


def _score(s: Slice, left: str, right: str) -> pd.Series:
    return s.combine(lambda a, b: 50 * a + 50 * b, (left, False), (right, False))


kpi("sales_enablement_score", inputs=("enablement_spend_share", "win_rate"))(
    lambda s: _score(s, "enablement_spend_share", "win_rate")
)
kpi("lead_management_score", inputs=("sla_followup_compliance", "mql_acceptance_rate"))(
    lambda s: _score(s, "sla_followup_compliance", "mql_acceptance_rate")
)


# -- forecasts ----------------------------------------------------------------------------------------------------
def _opening_calls(s: Slice, category: str) -> pd.DataFrame:
    """Per owner and month: the last ``category`` call submitted before the month's first day."""

    def calls() -> pd.DataFrame:
        f = s["forecasts"]
        f = f[(f["category"] == category) & (f["period_grain"] == "month")]
        f = f[pd.to_datetime(f["submitted_at"]) < pd.to_datetime(f["period_start"])]
        f = f.sort_values(["submitted_at", "forecast_id"]).groupby(["owner_id", "period_start"]).tail(1)
        return f.assign(m_period_start=month_start(f["period_start"]))

    return s.once(("calls", category), calls)


FC = ("forecasts",)
kpi("commit_forecast", FC, additive=True)(lambda s: s.agg(_opening_calls(s, "commit"), "period_start", "amount", "sum"))
kpi("pipeline_forecast", FC, additive=True)(
    lambda s: s.agg(_opening_calls(s, "pipeline"), "period_start", "amount", "sum")
)


@kpi("forecast_accuracy", inputs=("commit_forecast", "new_revenue"))
def _forecast_accuracy(s: Slice) -> pd.Series:
    return s.combine(lambda f, r: 1 - div((f - r).abs(), r), ("commit_forecast", None), ("new_revenue", None))


@kpi("forecast_bias", inputs=("commit_forecast", "new_revenue"))
def _forecast_bias(s: Slice) -> pd.Series:
    return s.combine(lambda f, r: div(f, r) - 1, ("commit_forecast", None), ("new_revenue", None))


# -- entry points -------------------------------------------------------------------------------------------------
def pandas_catalog_sliced(tables: Tables, dims: tuple[str, ...] = DIMENSIONS) -> Result:
    """Every KPI of :data:`CATALOG` at month grain for the whole company (``(kpi, None)``) and by each of
    ``dims`` it reaches (``(kpi, dim)``), from the canonical tables as pandas frames."""
    facts = Facts.prepare(tables)
    out: Result = {}
    for dim in (None, *dims):
        s = Slice(facts, dim)
        for name in CATALOG:
            if dim is None or dim in reach(name):
                out[(name, dim)] = s.ref(name)
    return out


COLUMNS: dict[str, list[str] | None] = {
    "touchpoints": ["lead_id", "occurred_at", "channel", "campaign_id", "touch_type"],
    "ledger": ["entity_type", "entity_id", "kind", "name", "reason", "occurred_at"],
}
"""Columns read from the large tables (the others are read whole)."""

TABLES_READ = (
    "accounts",
    "forecasts",
    "leads",
    "ledger",
    "opportunities",
    "quotas",
    "spend",
    "subscriptions",
    "teams",
    "touchpoints",
    "users",
    "web_traffic",
)


def read_tables(folder: Path) -> Tables:
    return {name: pd.read_parquet(folder / name, columns=COLUMNS.get(name)) for name in TABLES_READ}


def pandas_catalog(scale: str) -> dict[str, float]:
    """Benchmark entry: read the scale's Parquet files and compute the sliced catalog; rows per slice."""
    from bench.data import scale_data

    result = pandas_catalog_sliced(read_tables(scale_data(scale)))
    rows = {dim or "company": 0.0 for _, dim in result}
    for (_, dim), values in result.items():
        rows[dim or "company"] += len(values)
    return {**rows, "rows": sum(rows.values()), "kpis": float(len({k for k, _ in result}))}
