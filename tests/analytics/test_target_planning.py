"""Target planning rules on hand-computed bases, the plan's periods and gaps, and the invariants of the rules."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as NS

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revalign.analytics.governance.planning import (
    PlanRule,
    apply_rule,
    default_rule,
    parse_overrides,
    parse_rule,
    plan_periods,
    plan_targets,
)
from revalign.analytics.governance.scorecard import status_of
from revalign.errors import UnknownNameError


def K(direction: str, unit: str, value_range=None) -> NS:
    return NS(direction=direction, unit=unit, value_range=value_range)


LEADS = K("higher_is_better", "count", (0.0, None))
CAC = K("lower_is_better", "currency")
ROMI = K("higher_is_better", "ratio")
WIN = K("higher_is_better", "percent", (0.0, 1.0))
REJECT = K("lower_is_better", "percent", (0.0, 1.0))
SPEND = K("target_is_best", "currency")
CHURNED = K("lower_is_better", "count", (0.0, None))


@pytest.mark.parametrize(
    ("base", "kpi", "rule", "expected"),
    [
        (774, LEADS, PlanRule("growth", 0.1), 851),  # 774 × 1.1 = 851.4 → whole leads: 851
        (36_000, CAC, PlanRule("growth", 0.2), 30_000),  # lower is better: 36,000 ÷ 1.2
        (-0.5, ROMI, PlanRule("growth", 0.2), -0.4),  # negative base, higher: −0.5 + 0.5 × 0.2
        (-10, K("lower_is_better", "ratio"), PlanRule("growth", 0.2), -12),  # negative base, lower: −10 − 2
        (0.251, WIN, PlanRule("points", 0.02), 0.271),  # +2 points
        (0.99, WIN, PlanRule("points", 0.02), 1.0),  # 1.01 clamped into 0..1
        (0.01, REJECT, PlanRule("points", 0.02), 0.0),  # −0.01 clamped to 0
        (0.24, REJECT, PlanRule("points", 0.02), 0.22),  # lower is better: −2 points
        (100_000, SPEND, PlanRule("growth", 0.1), 110_000),  # a budget grows with the plan
        (0.3, K("target_is_best", "percent", (0.0, 1.0)), PlanRule("points", 0.05), 0.3),  # points: held
        (5, CHURNED, PlanRule("growth", 1.0), 3),  # 5 ÷ 2 = 2.5 → half up: 3
        (123.456, CAC, PlanRule("hold", 0.0), 123.46),  # hold, rounded to cents
        (1000, LEADS, PlanRule("growth", -0.25), 750),  # a decline plan
    ],
)
def test_rules_by_hand(base, kpi, rule, expected):
    assert apply_rule(base, kpi, rule) == pytest.approx(expected, abs=1e-9)


def test_default_rules_and_parsing():
    assert default_rule(WIN, growth=0.15, points=0.03) == PlanRule("points", 0.03)
    assert default_rule(K("target_is_best", "percent"), 0.15, 0.03) == PlanRule("hold", 0.0)
    assert default_rule(CAC, 0.15, 0.03) == PlanRule("growth", 0.15)
    # a lower-is-better rate gets relative growth: 1.5 % churn ÷ 1.2 = 1.25 %, where −2 points would plan 0 %
    assert default_rule(REJECT, 0.2, 0.02) == PlanRule("growth", 0.2)
    assert apply_rule(0.015, REJECT, default_rule(REJECT, 0.2, 0.02)) == 0.0125
    assert parse_rule("0.2") == parse_rule("20%") == parse_rule("growth:0.2") == PlanRule("growth", 0.2)
    assert parse_rule("points:0.03") == PlanRule("points", 0.03)
    assert parse_rule("hold") == PlanRule("hold", 0.0)
    assert parse_rule(0.5) == PlanRule("growth", 0.5)
    assert parse_overrides(["new_revenue=1.0", "win_rate = points:3%"]) == {
        "new_revenue": PlanRule("growth", 1.0),
        "win_rate": PlanRule("points", 0.03),
    }
    with pytest.raises(ValueError, match=r"points:0\.03"):
        parse_rule("lots")
    with pytest.raises(ValueError, match="method"):
        parse_rule("double:2")
    with pytest.raises(ValueError, match="above -1"):
        parse_rule("-1.5")
    with pytest.raises(ValueError, match="KPI=RULE"):
        parse_overrides(["new_revenue"])
    assert str(PlanRule("growth", 0.2)) == "+20%" and str(PlanRule("points", 0.02)) == "+2 points"


def test_plan_periods_follow_the_fiscal_calendar():
    assert plan_periods(2026, "quarter") == [dt.date(2026, m, 1) for m in (1, 4, 7, 10)]
    # February start: FY2026 runs Feb 2025 – Jan 2026
    assert plan_periods("FY2026", "quarter", 2) == [dt.date(2025, m, 1) for m in (2, 5, 8, 11)]
    assert plan_periods(2026, "year") == [dt.date(2026, 1, 1)]
    assert len(plan_periods(2026, "month")) == 12
    with pytest.raises(ValueError, match="year label"):
        plan_periods("2026-Q1", "quarter")
    with pytest.raises(ValueError, match="month, quarter or year"):
        plan_periods(2026, "week")


def rows(kpi: str, values: dict[dt.date, float], **dims: str) -> list[dict]:
    return [{"kpi": kpi, "period_start": d, **dims, "value": v} for d, v in values.items()]


def test_plan_targets_by_hand_with_gaps():
    q = [dt.date(2025, m, 1) for m in (1, 4, 7, 10)]
    actuals = pd.DataFrame(
        rows("new_leads", dict(zip(q, [600, 650, 760, 774], strict=True)))
        + rows("win_rate", {q[0]: 0.25, q[1]: 0.30, q[3]: 0.40})  # no value in 2025-Q3
        + rows("cac", {q[0]: 36_000.0, q[1]: float("nan")})  # NaN = no value
    )
    kpis = {"new_leads": LEADS, "win_rate": WIN, "cac": CAC, "nps": K("higher_is_better", "score")}
    plan = plan_targets(actuals, kpis, year=2026, grain="quarter", growth=0.1, overrides={"win_rate": "points:0.05"})
    got = {(r.kpi, r.period): r.value for r in plan.targets.itertuples()}
    assert got == {
        ("new_leads", "2026-Q1"): 660,  # 600 × 1.1
        ("new_leads", "2026-Q2"): 715,  # 650 × 1.1
        ("new_leads", "2026-Q3"): 836,  # 760 × 1.1
        ("new_leads", "2026-Q4"): 851,  # 774 × 1.1 = 851.4
        ("win_rate", "2026-Q1"): 0.30,  # +5 points (override)
        ("win_rate", "2026-Q2"): 0.35,
        ("win_rate", "2026-Q4"): 0.45,
        ("cac", "2026-Q1"): pytest.approx(32_727.27),  # 36,000 ÷ 1.1
    }
    row = plan.targets[(plan.targets.kpi == "new_leads") & (plan.targets.period == "2026-Q4")].iloc[0]
    assert (row.base_period, row.base_value, row.rule) == ("2025-Q4", 774, "+10%")
    assert row.note == "2025-Q4 actual 774, +10%"
    missing = {(r.kpi, r.period): r.reason for r in plan.missing.itertuples()}
    assert missing["win_rate", "2026-Q3"] == "no value in 2025-Q3"
    assert missing["cac", "2026-Q2"] == "no value in 2025-Q2"
    assert {p for k, p in missing if k == "nps"} == {"2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"}
    assert len(plan.targets) + len(plan.missing) == len(kpis) * 4  # every KPI × quarter is accounted for
    with pytest.raises(UnknownNameError, match="win_rat"):
        plan_targets(actuals, kpis, year=2026, overrides={"win_rat": 0.1})


def test_plan_targets_by_slice_and_fiscal_year():
    # February fiscal year: FY2026-Q1 (Feb–Apr 2025) is planned from FY2025-Q1 (Feb–Apr 2024)
    actuals = pd.DataFrame(
        rows("new_leads", {dt.date(2024, 2, 1): 100}, segment="smb")
        + rows("new_leads", {dt.date(2024, 2, 1): 40}, segment="enterprise")
        + rows("new_leads", {dt.date(2024, 5, 1): 50}, segment="enterprise")
    )
    plan = plan_targets(
        actuals, {"new_leads": LEADS}, year="FY2026", by=["segment"], growth=0.25, fiscal_year_start_month=2
    )
    got = {(r.period, r.segment): (r.value, r.base_period) for r in plan.targets.itertuples()}
    assert got == {
        ("FY2026-Q1", "smb"): (125, "FY2025-Q1"),  # 100 × 1.25
        ("FY2026-Q1", "enterprise"): (50, "FY2025-Q1"),  # 40 × 1.25
        ("FY2026-Q2", "enterprise"): (63, "FY2025-Q2"),  # 50 × 1.25 = 62.5 → 63
    }
    assert ("smb", "FY2026-Q2") in {(r.segment, r.period) for r in plan.missing.itertuples()}


@settings(max_examples=200, deadline=None)
@given(
    base=st.floats(min_value=1_000, max_value=1e7),
    growth=st.floats(min_value=0.01, max_value=2.0),
    direction=st.sampled_from(["higher_is_better", "lower_is_better"]),
)
def test_repeating_last_year_scores_the_same_attainment_either_way(base, growth, direction):
    # the mirror rule: holding last year's value attains 1 / (1 + g) of the plan, whichever way the KPI points,
    # and is never green against a plan with positive growth
    kpi = K(direction, "currency")
    target = apply_rule(base, kpi, PlanRule("growth", growth))
    status, attainment, _ = status_of(base, target, direction)
    assert attainment == pytest.approx(1 / (1 + growth), rel=5e-5)  # targets are rounded to cents
    assert status != "green"
    assert (target > base) if direction == "higher_is_better" else (target < base)


@settings(max_examples=200, deadline=None)
@given(base=st.floats(min_value=0, max_value=1), points=st.floats(min_value=0, max_value=0.5))
def test_point_uplifts_stay_within_zero_and_one(base, points):
    for kpi in (WIN, REJECT):
        target = apply_rule(base, kpi, PlanRule("points", points))
        assert 0.0 <= target <= 1.0


def test_a_yearly_total_is_phased_like_last_year():
    q = [dt.date(2025, m, 1) for m in (1, 4, 7, 10)]
    actuals = pd.DataFrame(
        rows("new_revenue", dict(zip(q, [100.0, 200.0, 300.0, 400.0], strict=True)))
        + rows("new_leads", {q[0]: 10, q[1]: 20, q[3]: 40})  # no 2025-Q3 base
    )
    revenue = K("higher_is_better", "currency")
    plan = plan_targets(
        actuals,
        {"new_revenue": revenue, "new_leads": LEADS},
        year=2026,
        overrides={"new_revenue": "total:2,000", "new_leads": "total:140"},
    )
    got = {(r.kpi, r.period): r.value for r in plan.targets.itertuples()}
    assert got == {
        ("new_revenue", "2026-Q1"): 200.0,  # 2,000 × 100 / 1,000
        ("new_revenue", "2026-Q2"): 400.0,
        ("new_revenue", "2026-Q3"): 600.0,
        ("new_revenue", "2026-Q4"): 800.0,
        ("new_leads", "2026-Q1"): 20,  # 140 × 10 / 70 (the three quarters with a base)
        ("new_leads", "2026-Q2"): 40,
        ("new_leads", "2026-Q4"): 80,
    }
    assert list(plan.missing[["kpi", "period"]].itertuples(index=False, name=None)) == [("new_leads", "2026-Q3")]
    assert plan.targets["rule"].iloc[0] == "year total 2,000 phased like last year"
    # slices share the total by last year's slice × quarter values: 1,000 × 60/200, 1,000 × 40/200, 1,000 × 100/200
    sliced = pd.DataFrame(
        rows("new_revenue", {q[0]: 60.0, q[1]: 100.0}, segment="smb")
        + rows("new_revenue", {q[0]: 40.0}, segment="enterprise")
    )
    total = {"new_revenue": "total:1000"}
    plan = plan_targets(sliced, {"new_revenue": revenue}, year=2026, by=["segment"], overrides=total)
    got = {(r.period, r.segment): r.value for r in plan.targets.itertuples()}
    assert got == {("2026-Q1", "enterprise"): 200.0, ("2026-Q1", "smb"): 300.0, ("2026-Q2", "smb"): 500.0}
    with pytest.raises(ValueError, match="adds up over periods"):
        plan_targets(actuals, {"win_rate": NS(type="ratio", unit="percent", direction="higher_is_better")},
                     year=2026, overrides={"win_rate": "total:1"})  # fmt: skip
    with pytest.raises(ValueError, match="phased"):
        apply_rule(1.0, LEADS, PlanRule("total", 5.0))


def test_plan_consistency_compares_implied_with_target_growth():
    from revalign.analytics.governance.planning import plan_consistency
    from revalign.definitions.trees import parse_formula

    tree = NS(formulas={"rev": parse_formula("leads * size")})

    def t(kpi, period, value, base, segment=None):
        return {"kpi": kpi, "period": period, "segment": segment, "value": value, "base_value": base}

    targets = pd.DataFrame(
        [
            t("rev", "2026-Q1", 200.0, 100.0),  # the parent asks ×2
            t("leads", "2026-Q1", 12.0, 10.0),  # drivers: ×1.2 × ×1.2 = ×1.44
            t("size", "2026-Q1", 12.0, 10.0),
            t("rev", "2026-Q2", 140.0, 100.0),  # ×1.4 < ×1.44: consistent
            t("leads", "2026-Q2", 12.0, 10.0),
            t("size", "2026-Q2", 12.0, 10.0),
            t("rev", "2026-Q3", 1.0, 1.0),  # a driver without a target: not checked
            t("leads", "2026-Q3", 1.0, 1.0),
            t("size", "2026-Q1", 99.0, 1.0, segment="smb"),  # slice rows are ignored
        ]
    )
    got = plan_consistency(targets, tree)
    assert list(got["period"]) == ["2026-Q1", "2026-Q2"]
    q1, q2 = got.iloc[0], got.iloc[1]
    assert q1.target_growth == pytest.approx(1.0) and q1.implied_growth == pytest.approx(0.44)
    assert q1.gap == pytest.approx(1.44 / 2 - 1) and not q1.consistent  # −28 %
    assert q2.gap == pytest.approx(1.44 / 1.4 - 1) and q2.consistent
    assert q1.drivers == "leads +20%, size +20%"
