"""Scorecards on hand-made KPI values: status by direction, targets by period and slice, change and trend."""

from __future__ import annotations

import datetime as dt
import json
import math
from types import SimpleNamespace as NS

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revalign.analytics.governance.scorecard import StatusRule, build_scorecard, movement_of, status_of, trend_of


def T(period: str, value: float, **dims: str) -> NS:
    return NS(period=period, value=value, dims=dims)


def K(name: str, department: str, direction: str, *, targets=(), parent=None, north_star=False, unit="count") -> NS:
    return NS(
        name=name,
        label=name.replace("_", " ").capitalize(),
        department=department,
        owner=f"head_of_{department}",
        unit=unit,
        direction=direction,
        timing="lagging" if north_star else "leading",
        parent=parent,
        north_star=north_star,
        targets=list(targets),
    )


@pytest.mark.parametrize(
    ("actual", "target", "direction", "status", "attainment"),
    [
        # higher is better: green at/above target, amber within 10 % below, red beyond
        (105.0, 100.0, "higher_is_better", "green", 1.05),
        (100.0, 100.0, "higher_is_better", "green", 1.0),
        (90.0, 100.0, "higher_is_better", "amber", 0.9),  # gap −10 % exactly: still amber
        (89.0, 100.0, "higher_is_better", "red", 0.89),
        # lower is better: green at/below, amber within 10 % above, red beyond; attainment = target/actual
        (80.0, 100.0, "lower_is_better", "green", 1.25),
        (110.0, 100.0, "lower_is_better", "amber", 100 / 110),
        (125.0, 100.0, "lower_is_better", "red", 0.8),
        # target is best: |gap| ≤ 5 % green, ≤ 15 % amber, else red, on either side; attainment = 1 − |gap|
        (96.0, 100.0, "target_is_best", "green", 0.96),
        (105.0, 100.0, "target_is_best", "green", 0.95),
        (88.0, 100.0, "target_is_best", "amber", 0.88),
        (114.0, 100.0, "target_is_best", "amber", 0.86),
        (120.0, 100.0, "target_is_best", "red", 0.8),
    ],
)
def test_status_by_direction(actual, target, direction, status, attainment):
    got_status, got_attainment, gap = status_of(actual, target, direction)
    assert got_status == status
    assert got_attainment == pytest.approx(attainment, rel=1e-12)
    assert gap == pytest.approx((actual - target) / target, rel=1e-12)


def test_status_edge_cases():
    assert status_of(None, 10.0, "higher_is_better")[0] == "no_data"
    assert status_of(float("nan"), 10.0, "higher_is_better")[0] == "no_data"
    assert status_of(5.0, None, "higher_is_better")[0] == "no_target"
    assert status_of(0.0, 0.0, "lower_is_better")[0] == "green"  # e.g. zero SLA breaches against a target of 0
    assert status_of(2.0, 0.0, "lower_is_better")[0] == "red"
    assert status_of(-5.0, -10.0, "higher_is_better")[0] == "green"  # a negative target uses |target|
    assert status_of(92.0, 100.0, "higher_is_better", StatusRule(amber_band=0.05))[0] == "red"
    with pytest.raises(ValueError, match="direction"):
        status_of(1.0, 1.0, "sideways")


def test_movement_and_trend_follow_the_direction():
    assert movement_of(10, 12, "higher_is_better") == "improving"
    assert movement_of(10, 12, "lower_is_better") == "worsening"
    assert movement_of(10, 10, "lower_is_better") == "unchanged"
    assert movement_of(1000, 1009, "higher_is_better") == "unchanged"  # within 1 % of the previous value: noise
    assert movement_of(1000, 1011, "higher_is_better") == "improving"
    assert movement_of(1000, 1009, "higher_is_better", rule=StatusRule(unchanged_band=0)) == "improving"
    assert movement_of(90, 105, "target_is_best", target=100) == "improving"  # 10 away → 5 away
    assert movement_of(98, 110, "target_is_best", target=100) == "worsening"
    assert movement_of(None, 3, "higher_is_better") == "unknown"
    assert trend_of([100, 110, 120, 130], "higher_is_better") == "improving"
    assert trend_of([100, 110, 120, 130], "lower_is_better") == "worsening"
    assert trend_of([100, 100.2, 99.9, 100.1], "higher_is_better") == "flat"  # slope < 1 % of the level
    assert trend_of([130, 115, 104, 101], "target_is_best", target=100) == "improving"
    assert trend_of([None, 5.0], "higher_is_better") == "unknown"


def quarterly(kpi: str, *values: float, start=dt.date(2024, 7, 1), **dims: str) -> list[dict]:
    """Rows for consecutive quarters starting at ``start`` (2024-Q3 … 2025-Q2 for four values)."""
    rows, day = [], start
    for v in values:
        rows.append({"kpi": kpi, "period_start": day, **dims, "value": v})
        day = dt.date(day.year + (day.month + 3 > 12), (day.month + 2) % 12 + 1, 1)
    return rows


CATALOG = {
    "new_revenue": K("new_revenue", "sales", "higher_is_better", north_star=True, unit="currency",
                     targets=[T("2025-Q2", 1_000_000), T("2025-Q1", 900_000), T("2025-Q2", 300_000, segment="smb")]),
    "new_leads": K("new_leads", "marketing", "higher_is_better", parent="new_revenue",
                   targets=[T("2025-Q2", 1000), T("2025-04", 350)]),
    "cost_per_lead": K("cost_per_lead", "marketing", "lower_is_better", parent="new_leads", unit="currency",
                       targets=[T("2025-Q2", 50)]),
    "sales_cycle_days": K("sales_cycle_days", "sales", "target_is_best", parent="new_revenue", unit="days",
                          targets=[T("2025-Q2", 60)]),
    "nps": K("nps", "customer_success", "higher_is_better"),
}  # fmt: skip

VALUES = pd.DataFrame(
    quarterly("new_revenue", 700_000, 760_000, 840_000, 800_000)
    + quarterly("new_leads", 700, 800, 950, 1_150)
    + quarterly("cost_per_lead", 60, 58, 56, 54)
    + quarterly("sales_cycle_days", 70, 66, 64, 62)
)


def test_joint_scorecard_by_hand():
    card = build_scorecard(VALUES, CATALOG, period="2025-Q2", grain="quarter")
    assert card.period == "2025-Q2" and card.north_star == "new_revenue"
    assert card.rows[0].kpi == "new_revenue"  # north star first, then by department
    rev = card.row("new_revenue")
    # 800,000 vs 1,000,000 → attainment 0.8, gap −20 % → red; previous 840,000 → change −40,000 (−4.76 %)
    assert (rev.actual, rev.target, rev.status) == (800_000, 1_000_000, "red")
    assert rev.attainment == pytest.approx(0.8) and rev.gap == pytest.approx(-0.2)
    assert rev.previous_period == "2025-Q1" and rev.previous == 840_000
    assert rev.change == -40_000 and rev.pct_change == pytest.approx(-40_000 / 840_000)
    assert rev.movement == "worsening"
    assert rev.trend == (700_000, 760_000, 840_000, 800_000)
    assert rev.trend_periods == ("2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2")
    assert rev.trend_direction == "improving"  # least-squares slope +36,000/quarter over the four quarters
    # the target line of the trend: the target in force in each period (none before 2025-Q1), not today's
    assert rev.trend_targets == (None, None, 900_000, 1_000_000)
    leads = card.row("new_leads")  # the monthly 2025-04 target does not apply to a quarter
    assert (leads.target, leads.status, leads.movement) == (1000, "green", "improving")
    cpl = card.row("cost_per_lead")  # lower is better: 54 vs 50 → gap +8 % → amber; attainment 50/54
    assert (cpl.status, cpl.movement, cpl.trend_direction) == ("amber", "improving", "improving")
    assert cpl.attainment == pytest.approx(50 / 54)
    cycle = card.row("sales_cycle_days")  # target is best: 62 vs 60 → |gap| 3.3 % → green, moving closer
    assert (cycle.status, cycle.movement) == ("green", "improving")
    nps = card.row("nps")
    assert (nps.status, nps.actual) == ("no_data", None)
    assert card.department_status() == {
        "sales": "red",  # the north star counts for its own department
        "marketing": "amber",
        "customer_success": "no_target",
    }
    frame = card.to_pandas()
    assert list(frame["kpi"]) == [r.kpi for r in card.rows] and "trend" in frame.columns
    json.dumps(card.to_dict())  # JSON-friendly for the API


def test_department_scorecard_keeps_the_north_star():
    card = build_scorecard(VALUES, CATALOG, period="2025-Q2", grain="quarter", department="marketing")
    assert [r.kpi for r in card.rows] == ["new_revenue", "cost_per_lead", "new_leads"]
    assert card.rows[0].is_north_star


def test_scorecard_by_segment_matches_slice_targets():
    values = pd.DataFrame(
        quarterly("new_revenue", 1, 2, 250_000, 310_000, segment="smb")
        + quarterly("new_revenue", 1, 2, 500_000, 450_000, segment="enterprise")
    )
    card = build_scorecard(values, {"new_revenue": CATALOG["new_revenue"]}, period="2025-Q2", by=["segment"])
    smb, ent = card.row("new_revenue", segment="smb"), card.row("new_revenue", segment="enterprise")
    assert (smb.target, smb.status) == (300_000, "green")  # the smb target applies only to the smb slice
    assert (ent.target, ent.status) == (None, "no_target")  # the company-wide target is not a slice target
    assert ent.change == -50_000
    assert list(card.to_pandas().columns[:2]) == ["segment", "kpi"]


def test_period_must_match_the_grain():
    with pytest.raises(ValueError, match="grain"):
        build_scorecard(VALUES, CATALOG, period="2025-04", grain="quarter")


def test_values_with_timestamps_and_missing_previous_period():
    values = pd.DataFrame({"kpi": ["new_leads"], "period_start": [pd.Timestamp("2025-04-01")], "value": [900.0]})
    card = build_scorecard(values, {"new_leads": CATALOG["new_leads"]}, period="2025-Q2", grain="quarter")
    row = card.row("new_leads")
    assert (row.actual, row.status, row.previous, row.movement) == (900.0, "amber", None, "unknown")


@settings(max_examples=200, deadline=None)
@given(
    actual=st.floats(min_value=0.01, max_value=1e7),
    target=st.floats(min_value=0.01, max_value=1e7),
    direction=st.sampled_from(["higher_is_better", "lower_is_better", "target_is_best"]),
)
def test_green_exactly_when_attainment_reaches_one(actual, target, direction):
    # for positive values, attainment ≥ 1 ⇔ on target (higher/lower); target-is-best: green ⇔ attainment ≥ 0.95
    status, attainment, _ = status_of(actual, target, direction)
    threshold = 0.95 if direction == "target_is_best" else 1.0
    assert (status == "green") == (attainment >= threshold - 1e-12) or math.isclose(attainment, threshold)
    # and swapping direction between higher and lower never leaves both green unless actual == target
    if direction != "target_is_best":
        other = "lower_is_better" if direction == "higher_is_better" else "higher_is_better"
        both_green = status == "green" and status_of(actual, target, other)[0] == "green"
        assert both_green == (actual == target)


def test_department_summary_counts_statuses_and_names_the_furthest_below_target():
    from revalign.analytics.governance.departments import department_summary
    from revalign.analytics.governance.scorecard import Scorecard, ScorecardRow

    def row(kpi: str, dept: str, status: str, attainment: float | None, immature: bool = False) -> ScorecardRow:
        return ScorecardRow(
            kpi=kpi, label=kpi.upper(), department=dept, owner=None, unit="count", direction="up", timing=None,
            parent=None, is_north_star=False, dims={}, period="2025-Q4", actual=1.0, target=1.0,
            attainment=attainment, gap=None, status=status, previous_period="2025-Q3", previous=None, change=None,
            pct_change=None, movement="", trend=(), trend_periods=(), trend_direction="", immature=immature,
        )  # fmt: skip

    card = Scorecard(
        period="2025-Q4", grain="quarter", department=None, north_star=None,
        rows=(
            row("a", "sales", "green", 1.1), row("b", "sales", "red", 0.5), row("c", "sales", "amber", 0.93),
            row("d", "sales", "no_target", None), row("e", "sales", "red", 0.2, immature=True),
            row("f", "marketing", "no_target", None),
        ),
    )  # fmt: skip
    s = department_summary(card).set_index("department")
    # sales: e is immature (left out); of a, b, c, d: 1 green, 1 amber, 1 red; b is furthest below (50 %)
    assert s.loc["sales", ["kpis", "green", "amber", "red"]].tolist() == [4, 1, 1, 1]
    assert s.loc["sales", "worst_kpi"] == "b" and s.loc["sales", "worst_attainment"] == 0.5
    assert s.loc["sales", "status"] == "red" and s.loc["marketing", "status"] == "no_target"
    assert s.loc["marketing", ["green", "amber", "red"]].tolist() == [0, 0, 0]
    assert pd.isna(s.loc["marketing", "worst_kpi"])
