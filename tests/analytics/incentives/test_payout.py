"""Payouts and statements on a hand-worked company (tests/analytics/incentives/hand.py), on every engine.

Every expected amount below is worked out by hand from the fixture and the plan, the arithmetic written out:
tiers 5 % to half of quota, 10 % to quota, 15 % above (decelerator and accelerator), a measure cap of 12,000, an
80/20 split between the deal owner and the lead's owner (the SDR), a 50 % overlay for the owner's manager,
sales-sourced deals credited × 1.25, a 500 SPIF per enterprise deal of 50,000 or more (split like the deal),
clawback on churn within 180 days, a recoverable draw of 3,000.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.incentives.credit import credit_lines
from revalign.analytics.incentives.payout import compliance_by_period, payouts, quota_by_period
from revalign.model.access import Tables
from tests.analytics.incentives.hand import PLAN_YAML, plan, write_company

# Credit (base × share × multiplier), by hand:
#   Q1  O4 10,000 email:        A1 0.8 → 8,000   S1 0.2 → 2,000   M1 overlay 0.5 → 5,000
#       O3 30,000 paid_search:  A2 1.0 → 30,000 (own lead: the owner takes the SDR share)   M1 0.5 → 15,000
#   Q2  O1 80,000 webinar:      A1 0.8 → 64,000  S1 0.2 → 16,000  M1 0.5 → 40,000
#       O2 60,000 outbound ×1.25: A1 1.0 × 1.25 → 75,000            M1 0.5 × 1.25 → 37,500
CREDIT = {
    ("A1", "2025-Q1"): 8_000.0,
    ("S1", "2025-Q1"): 2_000.0,
    ("M1", "2025-Q1"): 5_000.0 + 15_000.0,
    ("A2", "2025-Q1"): 30_000.0,
    ("A1", "2025-Q2"): 64_000.0 + 75_000.0,
    ("S1", "2025-Q2"): 16_000.0,
    ("M1", "2025-Q2"): 40_000.0 + 37_500.0,
}

# Earned (before draws), by hand:
A1_Q2_TIERS = 50_000 * 0.05 + 50_000 * 0.10 + 39_000 * 0.15  # 139,000 against a 100,000 quota = 13,350
EARNED = {
    ("A1", "2025-Q1"): 8_000 * 0.05,  # below half of quota: all at 5 % = 400
    ("A1", "2025-Q2"): 12_000 + 500 * 0.8,  # tiers 13,350 capped at 12,000, plus 80 % of the SPIF on O1 = 12,400
    ("A2", "2025-Q1"): 25_000 * 0.05 + 5_000 * 0.10,  # 30,000 against 50,000 = 1,750
    ("A2", "2025-Q2"): -30_000 * (1_750 / 30_000),  # O3 churned after 100 days: its pay, at Q1's rate, taken back
    ("S1", "2025-Q1"): 2_000 * 0.05,  # no quota: the first tier's rate = 100
    ("S1", "2025-Q2"): 16_000 * 0.05 + 500 * 0.2,  # 800 + 20 % of the SPIF = 900
    ("M1", "2025-Q1"): 20_000 * 0.05,  # overlays earn no SPIF = 1,000
    ("M1", "2025-Q2"): 77_500 * 0.05 - 15_000 * (1_000 / 20_000),  # 3,875 − clawback of the O3 overlay 750 = 3,125
}

# Draws of 3,000, recoverable, period by period:
#   A1: Q1 400 → top-up 2,600 (owed 2,600); Q2 12,400 → recover 2,600 (12,400 − 3,000 leaves room) → 9,800
#   A2: Q1 1,750 → top-up 1,250 (owed 1,250); Q2 −1,750 → nothing to recover, top-up 4,750 → 3,000
#   S1: Q1 100 → top-up 2,900; Q2 900 → top-up 2,100 → 3,000
#   M1: Q1 1,000 → top-up 2,000 (owed 2,000); Q2 3,125 → recover 125 (down to the floor) → 3,000
PAYOUT = {
    ("A1", "2025-Q1"): 3_000.0,
    ("A1", "2025-Q2"): 12_400 - 2_600,
    ("A2", "2025-Q1"): 3_000.0,
    ("A2", "2025-Q2"): 3_000.0,
    ("S1", "2025-Q1"): 3_000.0,
    ("S1", "2025-Q2"): 3_000.0,
    ("M1", "2025-Q1"): 3_000.0,
    ("M1", "2025-Q2"): 3_125 - 125,
}


@pytest.fixture(scope="module")
def tables(module_engine):
    write_company(module_engine)
    return Tables(module_engine)


@pytest.fixture(scope="module")
def lines(tables):
    return credit_lines(tables, plan(), start="2025-01-01", end="2025-07-01")


def _by_person(frame: pd.DataFrame, column: str) -> dict[tuple[str, str], float]:
    g = frame.groupby(["user_id", "period"])[column].sum()
    return {k: round(float(v), 6) for k, v in g.items()}


def test_credit_lines_split_overlay_and_multiply_by_hand(lines):
    assert _by_person(lines, "credit") == pytest.approx(CREDIT)
    o2 = lines[lines["record_id"] == "O2"].set_index("user_id")
    assert o2.loc["A1", "multiplier"] == 1.25 and o2.loc["M1", "role"] == "overlay"
    assert set(lines["user_id"]) == {"A1", "A2", "S1", "M1"}  # the CRO is not on this plan


def test_payouts_equal_the_hand_computation(tables, lines):
    p = plan()
    result = payouts(lines, p, quota_by_period(tables, p), people=None)
    assert _by_person(result.totals, "earned") == pytest.approx(EARNED)
    assert _by_person(result.totals, "payout") == pytest.approx(PAYOUT)
    assert result.totals["payout"].sum() == pytest.approx(sum(PAYOUT.values()))


def test_a_statement_explains_every_amount(tables, lines):
    p = plan()
    result = payouts(lines, p, quota_by_period(tables, p))
    st = result.statement("A1", "2025-Q2").set_index("line")
    assert st.loc["tier 1", "amount"] == pytest.approx(50_000 * 0.05)
    assert st.loc["tier 2", "amount"] == pytest.approx(50_000 * 0.10)
    assert (st.loc["tier 3", "base"], st.loc["tier 3", "rate"]) == pytest.approx((39_000, 0.15))
    assert st.loc["cap", "amount"] == pytest.approx(12_000 - A1_Q2_TIERS)
    assert st.loc["spif", "amount"] == pytest.approx(400) and st.loc["spif", "measure"] == "big_logo"
    assert st.loc["draw_recovery", "amount"] == pytest.approx(-2_600)
    # the lines add up to the payout: nothing is paid that the statement does not explain
    assert st["amount"].sum() == pytest.approx(PAYOUT[("A1", "2025-Q2")])
    claw = result.statement("A2", "2025-Q2")
    assert claw["line"].tolist() == ["clawback", "draw"] and "O3" in claw.loc[0, "detail"]


def test_a_non_recoverable_draw_is_never_taken_back(tables, lines):
    p = plan(PLAN_YAML.replace("recoverable: true", "recoverable: false"))
    got = _by_person(payouts(lines, p, quota_by_period(tables, p)).totals, "payout")
    assert got[("A1", "2025-Q2")] == pytest.approx(12_400)  # no recovery of Q1's 2,600
    assert got[("M1", "2025-Q2")] == pytest.approx(3_125)
    assert got[("A1", "2025-Q1")] == pytest.approx(3_000)


def test_a_plan_cap_and_an_sla_gate_and_modifier(tables, lines):
    capped = plan(PLAN_YAML.replace("draw: {amount: 3000, recoverable: true}", "cap: 5000"))
    got = _by_person(payouts(lines, capped, quota_by_period(tables, capped)).totals, "payout")
    assert got[("A1", "2025-Q2")] == pytest.approx(5_000)  # 12,400 cut to the plan cap
    assert got[("A1", "2025-Q1")] == pytest.approx(400)  # no draw in this variant
    compliance = pd.DataFrame({"user_id": ["A1", "S1"], "period": ["2025-Q2", "2025-Q2"], "compliance": [0.5, 0.95]})
    gate = plan(PLAN_YAML.replace("draw: {amount: 3000, recoverable: true}", "sla: {mode: gate, threshold: 0.9}"))
    got = _by_person(payouts(lines, gate, quota_by_period(tables, gate), compliance=compliance).totals, "payout")
    assert got[("A1", "2025-Q2")] == 0.0 and got[("S1", "2025-Q2")] == pytest.approx(900)
    mod = plan(
        PLAN_YAML.replace(
            "draw: {amount: 3000, recoverable: true}", "sla: {mode: modifier, threshold: 0.9, multiplier: 0.8}"
        )
    )
    got = _by_person(payouts(lines, mod, quota_by_period(tables, mod), compliance=compliance).totals, "payout")
    assert got[("A1", "2025-Q2")] == pytest.approx(12_400 * 0.8)


def test_sla_compliance_by_owner_becomes_the_plans_periods():
    by_owner = pd.DataFrame(
        {
            "period": ["2025-04-01", "2025-01-01", None],
            "owner_id": ["A1", "S1", None],
            "compliance_rate": [0.5, 1.0, 0.0],
        }
    )
    by_owner = by_owner.assign(period=pd.to_datetime(by_owner["period"]))
    got = compliance_by_period(by_owner, plan())
    assert got.to_dict("records") == [
        {"user_id": "A1", "period": "2025-Q2", "compliance": 0.5},
        {"user_id": "S1", "period": "2025-Q1", "compliance": 1.0},
    ]
