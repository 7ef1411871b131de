"""The rows behind a KPI's number, checked against plain pandas on the simulator's own tables.

Each expectation is written from the KPI's definition in the default catalog (its filter, its time column, its
window or snapshot point), not from the code under test, and computed with pandas on the simulated company's
tables as generated (before any engine saw them). One body per engine (DuckDB always; PostgreSQL and Spark
marked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest

from revalign.analytics.records import RecordRequest, drill_rows, record_rows
from revalign.definitions.kpis.catalog import default_catalog
from revalign.engine import Engine
from revalign.model.access import Tables
from revalign.simulate import simulate

CATALOG = default_catalog()
Q2 = (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
ALL = 1_000_000


@pytest.fixture(scope="module")
def company():
    return simulate(scale="xs", seed=3)


@pytest.fixture(scope="module")
def frames(company) -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in company.tables.items()}


@pytest.fixture(scope="module")
def tables(module_engine: Engine, company) -> Iterator[Tables]:
    company.write(module_engine)
    yield Tables(module_engine)


def drill(tables: Tables, kpi: str, start: dt.date = Q2[0], end: dt.date = Q2[1]) -> dict[str, pd.DataFrame]:
    found = drill_rows(tables, CATALOG, RecordRequest(kpi=kpi, start=start, end=end, limit=ALL))
    return {p.part.role: p.rows.frame for p in found.parts}


def in_days(col: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    days = pd.to_datetime(col).dt.date
    return (days >= start) & (days <= end)


def test_win_rate_lists_won_deals_over_closed_deals(tables, frames):
    o = frames["opportunities"]
    new = o["deal_type"] == "new_business"
    closed_in_q2 = in_days(o["closed_at"], *Q2)
    won = set(o.loc[new & closed_in_q2 & o["is_won"].astype(bool), "opportunity_id"])
    closed = set(o.loc[new & closed_in_q2 & o["is_closed"].astype(bool), "opportunity_id"])
    parts = drill(tables, "win_rate")
    assert set(parts["numerator"]["opportunity_id"]) == won
    assert set(parts["denominator"]["opportunity_id"]) == closed
    assert won and won < closed  # lost deals are listed too, behind the denominator


def test_active_customers_are_the_subscriptions_running_on_the_snapshot_day(tables, frames):
    # at: period_start — the state at the end of the day before 2025-04-01: started before it, not ended before
    s = frames["subscriptions"]
    at = Q2[0]
    start = pd.to_datetime(s["start_date"]).dt.date
    end = pd.to_datetime(s["end_date"]).dt.date
    running = s[(start < at) & (s["end_date"].isna() | (end >= at))]
    rows = drill(tables, "active_customers")["rows"]
    assert set(rows["subscription_id"]) == set(running["subscription_id"])
    assert rows["account_id"].nunique() == running["account_id"].nunique()


def test_new_revenue_ttm_lists_the_whole_twelve_months(tables, frames):
    # period_agg last: the twelve months ending 2025-06-30, i.e. deals closed 2024-07-01 .. 2025-06-30 (all after
    # the 2024-07-01 revision, so new business only)
    o = frames["opportunities"]
    keep = (o["deal_type"] == "new_business") & o["is_won"].astype(bool)
    keep &= in_days(o["closed_at"], dt.date(2024, 7, 1), Q2[1])
    rows = drill(tables, "new_revenue_ttm")["rows"]
    assert set(rows["opportunity_id"]) == set(o.loc[keep, "opportunity_id"])
    assert rows["amount"].sum() == pytest.approx(o.loc[keep, "amount"].sum())
    assert pd.to_datetime(rows["closed_at"]).dt.date.min() < Q2[0]  # more than the one quarter


def test_cost_per_lead_lists_marketing_spend_over_new_leads(tables, frames):
    sp, leads = frames["spend"], frames["leads"]
    spend = sp[(sp["department"] == "marketing") & in_days(sp["date"], *Q2)]
    new_leads = leads[in_days(leads["created_at"], *Q2)]
    parts = drill(tables, "cost_per_lead")
    assert parts["numerator"]["amount"].sum() == pytest.approx(spend["amount"].sum())
    assert len(parts["numerator"]) == len(spend)
    assert set(parts["denominator"]["lead_id"]) == set(new_leads["lead_id"])


def test_mql_to_sql_lists_mqls_and_those_that_became_sqls_within_90_days(tables, frames):
    ev = frames["ledger"]
    ev = ev[(ev["entity_type"] == "lead") & (ev["kind"] == "lifecycle")]
    mqls = ev[(ev["name"] == "mql") & in_days(ev["occurred_at"], *Q2)]
    sqls = ev[ev["name"] == "sql"][["entity_id", "occurred_at"]].rename(columns={"occurred_at": "sql_at"})
    pairs = mqls.merge(sqls, on="entity_id")
    hit = pairs[
        (pairs["sql_at"] >= pairs["occurred_at"]) & (pairs["sql_at"] <= pairs["occurred_at"] + pd.Timedelta(days=90))
    ]
    parts = drill(tables, "mql_to_sql_rate")
    assert set(parts["denominator"]["event_id"]) == set(mqls["event_id"])
    assert set(parts["numerator"]["event_id"]) == set(hit["event_id"])
    assert set(parts["denominator"].loc[parts["denominator"]["converted"], "event_id"]) == set(hit["event_id"])


def test_owner_and_account_names_stand_beside_their_ids(tables, frames):
    rows = drill(tables, "new_revenue")["rows"]
    users = dict(zip(frames["users"]["user_id"], frames["users"]["name"], strict=True))
    accounts = dict(zip(frames["accounts"]["account_id"], frames["accounts"]["name"], strict=True))
    assert rows["owner_name"].tolist() == [users[u] for u in rows["owner_id"]]
    assert rows["account_name"].tolist() == [accounts[a] for a in rows["account_id"]]


def test_spend_pages_are_stable_and_add_up_to_the_whole(tables, frames):
    # spend has no key: pages are ordered by date and every other column, so paging neither repeats nor skips
    sp = frames["spend"]
    expected = sp[in_days(sp["date"], *Q2)]
    request = RecordRequest(table="spend", start=Q2[0], end=Q2[1], limit=97)
    pages = []
    for offset in range(0, len(expected) + 97, 97):
        page = record_rows(tables, CATALOG, RecordRequest(**{**request.__dict__, "offset": offset}))
        assert page.total == len(expected)
        pages.append(page.frame)
    every = pd.concat(pages, ignore_index=True)
    assert len(every) == len(expected)
    assert every["amount"].sum() == pytest.approx(expected["amount"].sum())
    key = ["date", "channel", "campaign_id", "department", "category", "amount"]
    assert not every.duplicated(subset=key).any() or expected.duplicated(subset=key).any()
