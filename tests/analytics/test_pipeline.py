"""Pipeline created, velocity, stage-weighted pipeline, coverage and time in stage on a hand-built book of deals.

Deals (amounts): O1 100 created 01-10 won 02-09 (30 d); O2 50 created 01-20 lost 03-01; O3 200 created 02-01 open
in proposal, due 03-15; O4 300 created 04-05 won 04-25 (20 d). Stage history: O1 discovery 01-10 → proposal 01-20
→ won 02-09; O2 discovery 01-20 → lost 03-01; O3 discovery 02-01 → proposal 02-10; O4 discovery 04-05 → proposal
04-10 → won 04-25. Quotas for Q1 2024: U1 400, U2 300.
"""

from __future__ import annotations

import pytest

from revalign.analytics.funnel.timing import stage_velocity
from revalign.analytics.pipeline import (
    pipeline_coverage,
    pipeline_summary,
    pipeline_velocity,
    stage_weighted_pipeline,
    stage_win_rates,
)
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write


def deal(oid, owner, created, amount, closed=None, won=False, stage="proposal", close_date=None):
    return {
        "opportunity_id": oid, "owner_id": owner, "created_at": created, "amount": amount, "closed_at": closed,
        "is_closed": closed is not None, "is_won": won, "stage": stage, "close_date": close_date or closed,
        "segment": "smb" if owner == "U1" else "enterprise", "deal_type": "new_business",
    }  # fmt: skip


@pytest.fixture
def book(duckdb_engine):
    history = {
        "O1": [("discovery", "2024-01-10"), ("proposal", "2024-01-20"), ("closed_won", "2024-02-09")],
        "O2": [("discovery", "2024-01-20"), ("closed_lost", "2024-03-01")],
        "O3": [("discovery", "2024-02-01"), ("proposal", "2024-02-10")],
        "O4": [("discovery", "2024-04-05"), ("proposal", "2024-04-10"), ("closed_won", "2024-04-25")],
    }
    write(
        duckdb_engine,
        opportunities=[
            deal("O1", "U1", "2024-01-10", 100.0, "2024-02-09", True, "closed_won"),
            deal("O2", "U1", "2024-01-20", 50.0, "2024-03-01", False, "closed_lost"),
            deal("O3", "U2", "2024-02-01", 200.0, close_date="2024-03-15"),
            deal("O4", "U2", "2024-04-05", 300.0, "2024-04-25", True, "closed_won"),
        ],
        ledger=[("opportunity", o, "stage", s, t) for o, stages in history.items() for s, t in stages],
        quotas=[
            {"user_id": "U1", "period_start": "2024-01-01", "period_end": "2024-03-31", "amount": 400.0},
            {"user_id": "U2", "period_start": "2024-01-01", "period_end": "2024-03-31", "amount": 300.0},
        ],
    )
    return duckdb_engine


def test_pipeline_summary_by_quarter(book):
    s = pipeline_summary(Tables(book), grain="quarter").set_index("period")
    q1, q2 = s.iloc[0], s.iloc[1]
    # Q1: created O1+O2+O3 = 350 in 3 deals; closed O1 (won 100) and O2 (lost) → win rate 1/2, cycle 30 d
    assert (q1.opportunities_created, q1.pipeline_created, q1.won_deals, q1.lost_deals) == (3, 350.0, 1, 1)
    assert (q1.revenue, q1.win_rate, q1.avg_deal_size, q1.cycle_days) == (100.0, 0.5, 100.0, pytest.approx(30.0))
    # Q2: created and won O4 (300, 20 d)
    assert (q2.opportunities_created, q2.pipeline_created, q2.won_deals, q2.win_rate) == (1, 300.0, 1, 1.0)


def test_velocity(book):
    v = pipeline_velocity(Tables(book)).iloc[0]
    # closed O1, O2, O4: win rate 2/3; deal size (100+300)/2 = 200; cycle (30+20)/2 = 25; open O3 → 1 deal
    # velocity = 1 × 2/3 × 200 / 25 = 5.333… per day
    assert v.open_opportunities == 1 and v.win_rate == pytest.approx(2 / 3)
    assert v.avg_deal_size == 200.0 and v.cycle_days == pytest.approx(25.0)
    assert v.velocity_per_day == pytest.approx(1 * (2 / 3) * 200 / 25)
    by = pipeline_velocity(Tables(book), by=("segment",)).set_index("segment")
    # smb (U1): closed O1 won, O2 lost, nothing open → velocity 0; enterprise: O4 won, O3 open → 1 × 1 × 300 / 20
    assert by.loc["smb", "velocity_per_day"] == 0.0
    assert by.loc["enterprise", "velocity_per_day"] == pytest.approx(15.0)


def test_stage_weighted_pipeline_uses_historical_stage_to_win_rates(book):
    rates = stage_win_rates(Tables(book)).set_index("stage")
    # discovery reached by the 3 closed deals, 2 won → 2/3; proposal reached by O1 and O4, both won → 1
    assert rates.loc["discovery", "win_rate"] == pytest.approx(2 / 3)
    assert rates.loc["proposal", "win_rate"] == 1.0
    w = stage_weighted_pipeline(Tables(book)).set_index("stage")
    assert list(w.index) == ["proposal"] and w.loc["proposal", "weighted_amount"] == 200.0


def test_coverage_against_quota(book):
    c = pipeline_coverage(Tables(book)).iloc[0]
    # quota 700, won in Q1 100 → 600 to go; open O3 (200) due 03-15 → coverage 1/3
    assert (c.quota, c.won, c.open_due, c.remaining_quota) == (700.0, 100.0, 200.0, 600.0)
    assert c.coverage == pytest.approx(1 / 3)
    per = pipeline_coverage(Tables(book), by_owner=True).set_index("owner_id")
    assert per.loc["U1", "coverage"] == 0.0 and per.loc["U2", "coverage"] == pytest.approx(200 / 300)


def test_time_in_stage(book):
    v = stage_velocity(Tables(book)).set_index("stage")
    # discovery stays: 10 d (adv), 41 d (lost), 9 d (adv), 5 d (adv) → mean 16.25, median 9.5
    d = v.loc["discovery"]
    assert (d.entered, d.advanced, d.lost, d.open) == (4, 3, 1, 0)
    assert d.advance_rate == 0.75 and d.mean_days == pytest.approx(16.25) and d.p50_days == pytest.approx(9.5)
    # proposal: O1 20 d → won, O3 still open, O4 15 d → won → advance rate 2/2, mean 17.5
    p = v.loc["proposal"]
    assert (p.entered, p.advanced, p.open, p.advance_rate) == (3, 2, 1, 1.0) and p.mean_days == pytest.approx(17.5)
