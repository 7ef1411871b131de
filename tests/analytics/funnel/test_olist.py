"""Olist's real marketing funnel (8,000 MQLs, 842 won deals): MQL→won by origin and by month cohort, and
first-contact→won days, against plain pandas computed from the CSV files themselves.

The fixture maps the CSVs with a few lines of pandas (lead = MQL at first contact, won = the deal's won_date)
so this test does not depend on the ingestion module; the reference below never touches revalign code.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.funnel import funnel, parse_funnels
from revalign.engine import connect
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write

ORIGIN = {"social": "paid_social", "direct_traffic": "direct", "referral": "partner_referral", "display": "other",
          "other_publicities": "other"}  # fmt: skip
SPEC = """
funnels:
  olist:
    order: {order}
    steps:
      - {{name: mql, event: {{name: mql}}}}
      - {{name: won, event: {{name: customer}}}}
"""


@pytest.fixture(scope="module")
def olist(shared_data):
    folder = shared_data / "olist_marketing_funnel"
    mql = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv", parse_dates=["first_contact_date"])
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv", parse_dates=["won_date"])
    mql["channel"] = mql["origin"].fillna("unknown").map(lambda o: ORIGIN.get(o, o))
    return mql, deals


@pytest.fixture(scope="module")
def eng(olist):
    mql, deals = olist
    e = connect("duckdb://:memory:")
    ledger = [("lead", r.mql_id, "lifecycle", "mql", r.first_contact_date) for r in mql.itertuples()]
    ledger += [("lead", r.mql_id, "lifecycle", "customer", r.won_date) for r in deals.itertuples()]
    leads = [
        {"lead_id": r.mql_id, "created_at": r.first_contact_date, "lead_source": r.channel} for r in mql.itertuples()
    ]
    write(e, ledger=ledger, leads=leads)
    yield e
    e.close()


def reference(olist):
    """Plain pandas: each MQL joined to its deal; strict order needs won_date ≥ first_contact_date."""
    mql, deals = olist
    j = mql.merge(deals[["mql_id", "won_date"]], on="mql_id", how="left")
    j["days"] = (j["won_date"] - j["first_contact_date"]).dt.total_seconds() / 86400
    j["won_strict"] = j["days"] >= 0
    j["cohort"] = j["first_contact_date"].dt.to_period("M").dt.start_time.dt.date
    return j


def test_mql_to_won_by_origin(eng, olist):
    ref = reference(olist)
    result = funnel(Tables(eng), parse_funnels(SPEC.format(order="strict"))["olist"], grain=None, by=("channel",))
    won = result.steps[result.steps.step == "won"].set_index("channel")
    expected = ref.groupby("channel").agg(mqls=("mql_id", "size"), won=("won_strict", "sum"))
    assert won["entered"].sort_index().tolist() == expected["mqls"].sort_index().tolist()
    assert won["converted"].sort_index().tolist() == expected["won"].sort_index().tolist()
    rate = (expected["won"] / expected["mqls"]).sort_index()
    assert won["rate_from_previous"].sort_index().to_numpy() == pytest.approx(rate.to_numpy())
    # the dataset's headline: 8,000 MQLs; 842 deals of which one was won before its first contact (strict: 841)
    assert won["entered"].sum() == 8000 and won["converted"].sum() == 841


def test_any_order_keeps_the_deal_won_before_first_contact(eng):
    result = funnel(Tables(eng), parse_funnels(SPEC.format(order="any"))["olist"], grain=None)
    assert result.steps.set_index("step").loc["won", "converted"] == 842


def test_mql_to_won_by_month_cohort(eng, olist):
    ref = reference(olist)
    result = funnel(Tables(eng), parse_funnels(SPEC.format(order="strict"))["olist"], grain="month")
    won = result.steps[result.steps.step == "won"].set_index("cohort").sort_index()
    expected = ref.groupby("cohort").agg(mqls=("mql_id", "size"), won=("won_strict", "sum")).sort_index()
    assert list(won.index) == list(expected.index)
    assert won["entered"].tolist() == expected["mqls"].tolist()
    assert won["converted"].tolist() == expected["won"].tolist()


def test_first_contact_to_won_days(eng, olist):
    ref = reference(olist)
    days = ref.loc[ref["won_strict"], "days"]
    result = funnel(Tables(eng), parse_funnels(SPEC.format(order="strict"))["olist"], grain=None)
    won = result.steps.set_index("step").loc["won"]
    assert won["p50_days"] == pytest.approx(days.quantile(0.5))
    assert won["p75_days"] == pytest.approx(days.quantile(0.75))
    assert won["p90_days"] == pytest.approx(days.quantile(0.9))
    assert 13 <= won["p50_days"] <= 15  # SOURCE.md: median MQL→won is 14 days
