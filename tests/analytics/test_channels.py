"""Channel productivity on a hand-built company, sourced (first touch) and influenced (any touch before the event).

Leads: A created 01-01 (CRM source email, campaign C1), B 01-02 (events, no touches), C 01-03 (paid_search).
Touches: A paid_search/C2 12-30 and email/C1 01-05; C paid_search/C2 01-02 and webinar/C3 01-10.
First touch: A → paid_search, B → events (its CRM source), C → paid_search.
Events: A mql 01-06, sql 01-07; C mql 01-04. Deals: OA (lead A) created 01-08, won 02-07 (30 d), 1,000;
OX (no lead, source outbound_sales) created 01-09, open, 500.
Spend 01-01: paid_search 300, email 100, no channel 50 (salaries). Sessions: paid_search 1,000, email 40.
"""

from __future__ import annotations

import pytest

from revalign.analytics.channels import channel_productivity
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write


def touch(tid, lead, when, channel, campaign):
    return {"touchpoint_id": tid, "lead_id": lead, "occurred_at": when, "channel": channel, "campaign_id": campaign}


@pytest.fixture
def company(duckdb_engine):
    write(
        duckdb_engine,
        leads=[
            {"lead_id": "A", "created_at": "2024-01-01", "lead_source": "email", "campaign_id": "C1"},
            {"lead_id": "B", "created_at": "2024-01-02", "lead_source": "events"},
            {"lead_id": "C", "created_at": "2024-01-03", "lead_source": "paid_search"},
        ],
        touchpoints=[
            touch("t1", "A", "2023-12-30", "paid_search", "C2"),
            touch("t2", "A", "2024-01-05", "email", "C1"),
            touch("t3", "C", "2024-01-02", "paid_search", "C2"),
            touch("t4", "C", "2024-01-10", "webinar", "C3"),
        ],
        ledger=[
            ("lead", "A", "lifecycle", "mql", "2024-01-06"),
            ("lead", "A", "lifecycle", "sql", "2024-01-07"),
            ("lead", "C", "lifecycle", "mql", "2024-01-04"),
        ],
        opportunities=[
            {
                "opportunity_id": "OA",
                "lead_id": "A",
                "created_at": "2024-01-08",
                "closed_at": "2024-02-07",
                "is_closed": True,
                "is_won": True,
                "amount": 1000.0,
                "lead_source": "email",
                "deal_type": "new_business",
            },
            {
                "opportunity_id": "OX",
                "created_at": "2024-01-09",
                "amount": 500.0,
                "lead_source": "outbound_sales",
                "deal_type": "new_business",
            },
            # a won renewal: revenue, but not new revenue, so no channel gets it (and no "unknown" channel appears)
            {
                "opportunity_id": "OR",
                "created_at": "2024-01-15",
                "closed_at": "2024-01-20",
                "is_closed": True,
                "is_won": True,
                "amount": 9000.0,
                "deal_type": "renewal",
            },
        ],
        spend=[
            {"date": "2024-01-01", "channel": "paid_search", "campaign_id": "C2", "amount": 300.0},
            {"date": "2024-01-01", "channel": "email", "campaign_id": "C1", "amount": 100.0},
            {"date": "2024-01-01", "category": "salaries", "amount": 50.0},
        ],
        web_traffic=[
            {"date": "2024-01-01", "channel": "paid_search", "sessions": 1000},
            {"date": "2024-01-01", "channel": "email", "sessions": 40},
        ],
    )
    return duckdb_engine


def test_sourced_by_channel(company):
    t = channel_productivity(Tables(company)).set_index("channel", drop=False)
    ps = t.loc["paid_search"]
    assert (ps.leads, ps.mqls, ps.sqls, ps.opportunities, ps.won_deals) == (2, 2, 1, 1, 1)
    assert (ps.spend, ps.sessions, ps.pipeline, ps.revenue) == (300.0, 1000, 1000.0, 1000.0)
    # CPL 300/2, cost per MQL 300/2, CAC 300/1, ROMI (1000-300)/300, cycle 30 d
    assert (ps.cost_per_lead, ps.cost_per_mql, ps.cac) == (150.0, 150.0, 300.0)
    assert ps.romi == pytest.approx(7 / 3) and ps.cycle_days == pytest.approx(30.0)
    assert t.loc["events", "leads"] == 1 and t.loc["outbound_sales", "pipeline"] == 500.0
    email = t.loc["email"]
    assert (email.leads, email.spend, email.sessions) == (0, 100.0, 40) and email.cost_per_lead != email.cost_per_lead
    # sourced rows add up to the company: 3 leads, 2 deals, all 450 of spend (50 unallocated)
    assert t.leads.sum() == 3 and t.opportunities.sum() == 2 and t.spend.sum() == 450.0
    assert t.loc["unallocated", "spend"] == 50.0


def test_influenced_counts_every_touch_before_the_event(company):
    t = channel_productivity(Tables(company), attribution="influenced").set_index("channel")
    # A's MQL (01-06) was touched by paid_search (12-30) and email (01-05); C's MQL (01-04) by paid_search only
    assert (t.loc["paid_search", "leads"], t.loc["paid_search", "mqls"], t.loc["paid_search", "won_deals"]) == (2, 2, 1)
    assert (t.loc["email", "leads"], t.loc["email", "mqls"], t.loc["email", "sqls"], t.loc["email", "revenue"]) == (
        0, 1, 1, 1000.0,
    )  # fmt: skip
    # C's webinar touch came after all of C's events: it influenced nothing
    assert "webinar" not in t.index or t.loc["webinar", "mqls"] == 0
    assert t.mqls.sum() > 2  # influenced rows overlap by design


def test_by_campaign(company):
    t = channel_productivity(Tables(company), by=("campaign_id",)).set_index("campaign_id")
    assert t.loc["C2", "leads"] == 2 and t.loc["C2", "spend"] == 300.0 and t.loc["C2", "cost_per_lead"] == 150.0
