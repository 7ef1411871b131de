"""The demo company has a steady history and tells its story: three years growing about 20 % a year (no ramp
from zero into the reported year), churn before the reported year, and marketing's lowered MQL bar in 2025
(MQLs jump, the share that sales accepts falls). Every figure is recomputed here in pandas from the tables."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.simulate import DEMO_CONFIG, SimulationConfig, demo_scale, simulate


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    company = simulate(demo_scale("s"), seed=0, config=DEMO_CONFIG)
    return {name: t.to_pandas() for name, t in company.tables.items()}


def _year(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts).dt.year


def test_three_years_with_the_default_density_of_leads(tables):
    leads = tables["leads"]
    assert sorted(_year(leads["created_at"]).unique()) == [2023, 2024, 2025]
    planned = demo_scale("s").leads  # plus duplicates and re-created leads, a few percent
    assert planned <= len(leads) <= 1.06 * planned
    assert demo_scale("s").leads == round(6_000 * DEMO_CONFIG.days / SimulationConfig().days)


def test_demand_grows_about_twenty_percent_a_year(tables):
    by_year = _year(tables["leads"]["created_at"]).value_counts().sort_index()
    growth = by_year.pct_change().dropna()
    assert growth.between(0.10, 0.32).all(), growth.to_dict()


def test_reported_year_is_not_a_ramp_from_zero(tables):
    opps = tables["opportunities"]
    won = opps[opps["is_won"] & (opps["deal_type"] == "new_business")]
    revenue = won.groupby(_year(won["closed_at"]))["amount"].sum()
    # 2025 against 2024: ordinary growth, not the 3-10x of a company that started the year before
    assert 0.8 <= revenue[2025] / revenue[2024] <= 1.8, revenue.to_dict()
    subs = tables["subscriptions"]
    ended = subs[subs["end_date"].notna()]
    assert (_year(ended["end_date"]) == 2024).sum() > 0  # churn to plan 2025's churn target from
    renewals = opps[opps["deal_type"] == "renewal"]
    assert (_year(renewals["created_at"]) == 2024).sum() > 0


def test_marketing_lowers_its_mql_bar_in_2025(tables):
    ledger = tables["ledger"]
    lead_events = ledger[ledger["entity_type"] == "lead"]
    mqls = lead_events[lead_events["name"] == "mql"]
    accepted = lead_events[lead_events["name"] == "accepted"]
    per_year = _year(mqls["occurred_at"]).value_counts().sort_index()
    leads = _year(tables["leads"]["created_at"]).value_counts().sort_index()
    mql_share = per_year / leads
    assert mql_share[2025] > 1.5 * mql_share[2024], mql_share.to_dict()
    acceptance = _year(accepted["occurred_at"]).value_counts().sort_index() / per_year
    assert acceptance[2025] < acceptance[2024] - 0.05, acceptance.to_dict()
