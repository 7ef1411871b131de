"""The quarter landing and its backtest on a hand-worked book (lookback one quarter, forecast on 2024-04-07).

Q1 2024, seen from its day 6 (2024-01-07), as known on 2024-04-07:
  A 100 discovery, won 02-01 (in Q1) · B 300 discovery, lost · C 200 proposal, won 04-05 (after Q1: slipped)
  D 50 created 02-15 (after day 6), won 03-20: the not-yet-created run-rate is 50.
  discovery: open 400, won in quarter 100 → close rate 0.25, slippage 0, weight 0.25
  proposal:  open 200, won later 200 → close rate 1, slippage 1, weight 0
Q2 2024 on 2024-04-07: G 70 won 04-03 and C 200 won 04-05 (won so far 270); E 1000 open in discovery; F 400
open in proposal.
  landing = 270 + 1000 × 0.25 + 400 × 0 + 50 = 570; naive = 270 ÷ (7 / 91) = 3510.
E is won on 05-01, so the quarter's actual is 1270; the rep's standing commit call is 900.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from revalign.analytics.forecast.backtest import backtest
from revalign.analytics.forecast.landing import quarter_landing
from revalign.analytics.forecast.rates import weights
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write


def deal(oid, created, amount, closed=None, won=False, stage="discovery"):
    return {
        "opportunity_id": oid, "owner_id": "U1", "created_at": created, "amount": amount, "closed_at": closed,
        "is_closed": closed is not None, "is_won": won, "stage": stage, "deal_type": "new_business",
        "segment": "smb",
    }  # fmt: skip


@pytest.fixture(scope="module")
def book(module_engine):
    history = {
        "A": [("discovery", "2024-01-02"), ("closed_won", "2024-02-01")],
        "B": [("discovery", "2024-01-03"), ("closed_lost", "2024-02-10")],
        "C": [("discovery", "2024-01-03"), ("proposal", "2024-01-05"), ("closed_won", "2024-04-05")],
        "D": [("discovery", "2024-02-15"), ("closed_won", "2024-03-20")],
        "E": [("discovery", "2024-04-02"), ("closed_won", "2024-05-01")],
        "F": [("discovery", "2024-03-01"), ("proposal", "2024-03-10")],
        "G": [("discovery", "2024-03-15"), ("closed_won", "2024-04-03")],
    }
    write(
        module_engine,
        opportunities=[
            deal("A", "2024-01-02", 100.0, "2024-02-01", True, "closed_won"),
            deal("B", "2024-01-03", 300.0, "2024-02-10", False, "closed_lost"),
            deal("C", "2024-01-03", 200.0, "2024-04-05", True, "closed_won"),
            deal("D", "2024-02-15", 50.0, "2024-03-20", True, "closed_won"),
            deal("E", "2024-04-02", 1000.0, "2024-05-01", True, "closed_won"),
            deal("F", "2024-03-01", 400.0, stage="proposal"),
            deal("G", "2024-03-15", 70.0, "2024-04-03", True, "closed_won"),
        ],
        ledger=[("opportunity", o, "stage", s, t) for o, stages in history.items() for s, t in stages],
        users=[{"user_id": "U1", "team_id": "T1"}],
        forecasts=[
            {
                "forecast_id": "F1",
                "owner_id": "U1",
                "team_id": "T1",
                "period_start": "2024-04-01",
                "period_grain": "quarter",
                "category": "commit",
                "amount": 900.0,
                "submitted_at": "2024-04-01 09:00",
                "recorded_at": "2024-04-01 10:00",
            }
        ],
    )
    return Tables(module_engine)


def test_landing_is_won_plus_weighted_open_plus_run_rate(book):
    land = quarter_landing(book, dt.date(2024, 4, 7), lookback=1)
    row = land.frame.iloc[0]
    assert (row["won"], row["open_amount"], row["open_deals"]) == (270.0, 1400.0, 2)
    assert row["weighted_open"] == pytest.approx(250.0)
    assert row["run_rate"] == pytest.approx(50.0)
    assert row["landing"] == pytest.approx(570.0)
    assert row["naive"] == pytest.approx(270.0 * 91 / 7)
    rates = land.rates.drop_duplicates("stage").set_index("stage")
    assert rates.loc["discovery", "close_rate"] == pytest.approx(0.25)
    assert rates.loc["discovery", "slippage"] == pytest.approx(0.0)
    assert rates.loc["proposal", "close_rate"] == pytest.approx(1.0)
    assert rates.loc["proposal", "slippage"] == pytest.approx(1.0)
    assert land.quarter == "2024-Q2"


def test_landing_by_team_sums_to_the_company(book):
    company = quarter_landing(book, dt.date(2024, 4, 7), lookback=1).frame
    teams = quarter_landing(book, dt.date(2024, 4, 7), by=["team"], lookback=1).frame
    assert list(teams["team"]) == ["T1"]
    assert teams["landing"].sum() == pytest.approx(company["landing"].iloc[0])


def test_an_outcome_not_yet_known_is_not_used(book):
    # on 2024-04-04 (day 3) C's win of 04-05 is not known: C is still open, and in Q1's day-3 snapshot (01-04) it
    # was in discovery with A and B, of which only A's 100 of 600 had been won: close rate 1/6
    land = quarter_landing(book, dt.date(2024, 4, 4), lookback=1)
    rates = land.rates.drop_duplicates("stage").set_index("stage")
    assert list(rates.index) == ["discovery"]
    assert rates.loc["discovery", "close_rate"] == pytest.approx(100 / 600)
    row = land.frame.iloc[0]
    assert (row["won"], row["open_amount"], row["open_deals"]) == (70.0, 1600.0, 3)
    assert row["landing"] == pytest.approx(70 + 1000 / 6 + 50)


def test_backtest_point_against_the_hand_worked_errors(book):
    bt = backtest(book, ["2024-Q2"], weeks=[1], lookback=1)
    p = bt.points.iloc[0]
    assert (p["forecast"], p["actual"], p["reps"]) == (pytest.approx(570.0), 1270.0, 900.0)
    assert p["forecast_ape"] == pytest.approx(700 / 1270)
    assert p["naive_ape"] == pytest.approx((3510 - 1270) / 1270)
    assert p["reps_ape"] == pytest.approx(370 / 1270)
    assert bt.mape.iloc[0]["week"] == 1


def test_age_bands_weigh_stalled_deals_down():
    cells = pd.DataFrame(
        {
            "stage": ["discovery", "discovery"],
            "age_band": [0, 1],
            "deals": [10, 10],
            "open_amount": [1000.0, 1000.0],
            "won_in_quarter": [300.0, 100.0],
            "won_later": [100.0, 100.0],
        }
    )
    w = weights(cells, pd.DataFrame({"stage": ["discovery"], "typical_age": [20.0]})).set_index("age_band")
    # stage: won 600 of 2000 → close rate 0.3; 200 of 600 slipped → weight 0.3 × 2/3 = 0.2
    assert w.loc[0, "close_rate"] == pytest.approx(0.3)
    assert w.loc[0, "stage_weight"] == pytest.approx(0.2)
    assert (w.loc[0, "weight"], w.loc[1, "weight"]) == (pytest.approx(0.3), pytest.approx(0.1))
    assert (w.loc[0, "age_factor"], w.loc[1, "age_factor"]) == (pytest.approx(1.5), pytest.approx(0.5))
