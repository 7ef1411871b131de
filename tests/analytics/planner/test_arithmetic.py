"""The reverse funnel's arithmetic and quota capacity on hand-worked fixtures (every number below is worked out in
the comments, from the inputs, without revalign)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from revalign.analytics.planner import LiveRates, quota_capacity, reverse_funnel
from revalign.engine import connect
from revalign.model.access import Tables
from revalign.model.calendar import parse_period
from revalign.model.tables import TABLES
from revalign.project import Project

CHANNELS = pd.DataFrame(
    {
        "channel": ["paid_search", "organic_search"],
        "leads": [300.0, 200.0],
        "share": [0.6, 0.4],
        "spend": [30_000.0, 0.0],
        "cost_per_lead": [100.0, 0.0],
    }
)
# lags from lead creation: 10 d → 0 months, 20 d → 1, 31 d → 1, 95 d → 3 (÷ 30.44, rounded)
RATES = LiveRates(
    start=dt.date(2025, 7, 1),
    end=dt.date(2026, 7, 1),
    average_deal_size=50_000.0,
    yields={"mqls": 0.2, "sqls": 0.5, "opportunities_created": 0.8, "deals_won": 0.25},
    lag_days={"new_leads": 0.0, "mqls": 10.0, "sqls": 20.0, "opportunities_created": 31.0, "deals_won": 95.0},
    channels=CHANNELS,
)


def test_plan_divides_down_the_funnel() -> None:
    plan = reverse_funnel(1_000_000, parse_period("2026-Q3"), RATES)
    # 1,000,000 ÷ 50,000 = 20 deals; ÷ 0.25 = 80 opportunities; ÷ 0.8 = 100 SQLs; ÷ 0.5 = 200 MQLs; ÷ 0.2 = 1,000 leads
    got = dict(zip(plan.stages["kpi"], plan.stages["value"], strict=True))
    assert got == {
        "new_revenue": 1_000_000,
        "deals_won": 20,
        "opportunities_created": 80,
        "sqls": 100,
        "mqls": 200,
        "new_leads": 1000,
    }
    # each row's rate is the yield into the stage below it
    rates = dict(zip(plan.stages["kpi"], plan.stages["rate"], strict=True))
    assert rates["new_leads"] == 0.2 and rates["opportunities_created"] == 0.25 and pd.isna(rates["deals_won"])


def test_volumes_are_due_lag_months_before_the_period() -> None:
    plan = reverse_funnel(1_000_000, parse_period("2026-Q3"), RATES)
    due = dict(zip(plan.stages["kpi"], plan.stages["due"], strict=True))
    # deals: 2026-07…09; opportunities and SQLs: 3 − 1 = 2 months earlier; MQLs and leads: 3 − 0 = 3 months earlier
    assert due["deals_won"] == "2026-07 … 2026-09"
    assert due["opportunities_created"] == due["sqls"] == "2026-05 … 2026-07"
    assert due["mqls"] == due["new_leads"] == "2026-04 … 2026-06"


def test_leads_and_spend_per_channel() -> None:
    plan = reverse_funnel(1_000_000, parse_period("2026-Q3"), RATES)
    # 1,000 leads × 0.6 = 600 paid search at 100 each = 60,000; 400 organic at 0
    assert plan.channels[["channel", "leads", "spend"]].to_dict(orient="records") == [
        {"channel": "paid_search", "leads": 600.0, "spend": 60_000.0},
        {"channel": "organic_search", "leads": 400.0, "spend": 0.0},
    ]
    assert plan.total_spend == 60_000.0


def test_volumes_round_up_once_per_stage() -> None:
    plan = reverse_funnel(1_000_001, parse_period("2026-Q3"), RATES)
    # 20.00002 deals → 21; opportunities from the unrounded 80.00008 → 81 (not 21 ÷ 0.25 = 84)
    assert plan.volume("deals_won") == 21 and plan.volume("opportunities_created") == 81
    assert plan.volume("new_leads") == 1001  # 1000.01 → 1001


def test_targets_cascade_by_stage_kpi() -> None:
    plan = reverse_funnel(1_000_000, parse_period("2026-Q3"), RATES)
    frame = plan.to_targets()
    rows = {(k, p, None if pd.isna(c) else c): v for k, p, c, v in frame[["kpi", "period", "channel", "value"]].values}
    assert rows == {
        ("new_revenue", "2026-Q3", None): 1_000_000,
        ("deals_won", "2026-Q3", None): 20,
        # a 2-month lag is not whole quarters: monthly rows, 80 = 27 + 27 + 26, 100 = 34 + 33 + 33
        ("opportunities_created", "2026-05", None): 27,
        ("opportunities_created", "2026-06", None): 27,
        ("opportunities_created", "2026-07", None): 26,
        ("sqls", "2026-05", None): 34,
        ("sqls", "2026-06", None): 33,
        ("sqls", "2026-07", None): 33,
        # 3 months is one quarter: the previous quarter's label
        ("mqls", "2026-Q2", None): 200,
        ("new_leads", "2026-Q2", None): 1000,
        ("new_leads", "2026-Q2", "paid_search"): 600,
        ("new_leads", "2026-Q2", "organic_search"): 400,
    }


def test_saved_targets_read_back_as_project_targets(tmp_path: Path) -> None:
    project = Project(tmp_path, engine="duckdb://:memory:")
    try:
        plan = reverse_funnel(1_000_000, parse_period("2026-Q3"), RATES)
        pd.DataFrame([{"kpi": "win_rate", "period": "2026-Q3", "value": 0.3}]).to_csv(
            tmp_path / "targets.csv", index=False
        )
        path = project.save_plan_targets(plan)
        project.save_plan_targets(plan)  # re-planning replaces the plan's rows, it does not add them twice
        book, issues = project.checked_targets()
        assert path == tmp_path / "targets.csv"
        assert issues == [], [i.message for i in issues]  # no error, and no warning either
        saved = pd.read_csv(path)
        assert len(saved) == 1 + len(plan.to_targets())  # the win_rate row is kept
        assert book.entries  # every row reads back as a target
    finally:
        project.close()


def test_an_unknown_rate_is_named_not_divided_by() -> None:
    rates = LiveRates(RATES.start, RATES.end, 50_000.0, {**RATES.yields, "sqls": 0.0}, RATES.lag_days, CHANNELS)
    plan = reverse_funnel(1_000_000, parse_period("2026-Q3"), rates)
    assert any("SQLs per MQL" in n for n in plan.notices)
    assert plan.stages["value"].iloc[1:].isna().all()  # nothing below revenue is planned from a zero rate
    assert list(plan.to_targets()["kpi"]) == ["new_revenue"]  # and nothing unplanned is saved as a target


def test_target_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        reverse_funnel(0, parse_period("2026-Q3"), RATES)


@pytest.fixture(scope="module")
def quota_tables() -> Tables:
    engine = connect("duckdb://:memory:")
    quotas = pd.DataFrame(
        {
            "user_id": ["a", "b", "a", "b"],
            "period_start": [dt.date(2026, 4, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1), dt.date(2026, 7, 1)],
            "period_end": [dt.date(2026, 6, 30), dt.date(2026, 6, 30), dt.date(2026, 9, 30), dt.date(2026, 9, 30)],
            "amount": [90_000.0, 110_000.0, 100_000.0, 150_000.0],
        }
    )
    engine.write("quotas", quotas, schema=TABLES["quotas"].schema)
    return Tables(engine)


def test_capacity_in_force(quota_tables: Tables) -> None:
    cap = quota_capacity(quota_tables, parse_period("2026-Q3"), 300_000)
    # 100,000 + 150,000 = 250,000 by 2 reps: coverage 250/300; ⌈300,000 ÷ 125,000⌉ = 3 reps; 50,000 short
    assert (cap.reps, cap.quota, cap.reps_needed, cap.shortfall, cap.ok) == (2, 250_000, 3, 50_000, False)
    assert cap.coverage == pytest.approx(250 / 300)
    assert any("3 reps" in n for n in cap.notices)


def test_capacity_of_a_month_is_pro_rata(quota_tables: Tables) -> None:
    cap = quota_capacity(quota_tables, parse_period("2026-08"), 50_000)
    # August is 31 of Q3's 92 days: 250,000 × 31 / 92
    assert cap.quota == pytest.approx(round(250_000 * 31 / 92, 2)) and cap.ok


def test_capacity_of_a_later_period_uses_the_latest_quotas(quota_tables: Tables) -> None:
    cap = quota_capacity(quota_tables, parse_period("2027-Q1"), 200_000)
    # no quota yet: Q3 2026's team stands in, scaled from 92 days to Q1 2027's 90
    assert cap.basis.startswith("latest (2026-07-01") and cap.quota == pytest.approx(round(250_000 * 90 / 92, 2))
