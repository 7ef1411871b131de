"""The perverse-incentive check on a small hand-worked case: the exact gain per gaming action, and no flag where the
plan does not pay for the action.

One AE (A1, quota 100,000 in 2025-Q1 and in 2025-Q2), two won deals in Q1: D1 from a webinar (80,000) and D2
self-sourced (outbound_sales, 20,000). The plan pays 10 % up to quota and 20 % above it, and credits sales-sourced
deals × 1.5.
"""

from __future__ import annotations

import pytest

from revalign.analytics.incentives.check import perverse_incentives
from revalign.analytics.incentives.credit import records
from revalign.analytics.incentives.payout import quota_by_period
from revalign.definitions.comp import parse_comp_plans
from revalign.engine import connect
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write

PLAN = """\
name: ae
version: 1
roles: [ae]
target_variable_pay: 10000
measures:
  - {name: new_revenue, kind: credited_new_revenue, north_star: true, weight: 0.9, quota: quotas,
     tiers: [{upto: 1.0, rate: 0.10}, {rate: 0.20}]}
  - {name: mqls, kind: mqls, north_star: false, weight: 0.1, rate: 25}
credit:
  sourced_multipliers: {sales: 1.5}
"""


def _tiers(credit: float) -> float:
    """The plan's pay on ``credit`` against a 100,000 quota, by hand."""
    return min(credit, 100_000) * 0.10 + max(credit - 100_000, 0) * 0.20


@pytest.fixture(scope="module")
def tables():
    eng = connect("duckdb://:memory:")
    deal = {
        "is_closed": True,
        "is_won": True,
        "deal_type": "new_business",
        "owner_id": "A1",
        "created_at": "2025-01-02",
    }
    write(
        eng,
        users=[{"user_id": "A1", "role": "ae"}],
        quotas=[
            {"user_id": "A1", "period_start": q, "period_end": q, "amount": 100_000.0}
            for q in ("2025-01-01", "2025-04-01")
        ],
        leads=[{"lead_id": "L1", "owner_id": "A1", "lead_source": "webinar"}, {"lead_id": "L2", "owner_id": "A1"}],
        opportunities=[
            {
                **deal,
                "opportunity_id": "D1",
                "lead_id": "L1",
                "amount": 80_000.0,
                "lead_source": "webinar",
                "closed_at": "2025-02-01",
            },
            {
                **deal,
                "opportunity_id": "D2",
                "lead_id": "L2",
                "amount": 20_000.0,
                "lead_source": "outbound_sales",
                "closed_at": "2025-03-01",
            },
        ],
        ledger=[("lead", "L1", "lifecycle", "mql", "2025-01-03")],
    )
    yield Tables(eng)
    eng.close()


def check(tables, text=PLAN):
    plan = parse_comp_plans((text, "ae.yaml"))["ae"]
    recs = records(tables, plan, start="2025-01-01", end="2025-04-01")
    return perverse_incentives(recs, plan, quota_by_period(tables, plan))


@pytest.fixture(scope="module")
def result(tables):
    return check(tables)


def test_relabelling_a_marketing_deal_as_self_sourced_is_flagged_with_the_exact_gain(result):
    as_is = _tiers(80_000 + 20_000 * 1.5)  # 110,000 credited: 10,000 + 2,000 = 12,000
    relabelled = _tiers(80_000 * 1.5 + 20_000 * 1.5)  # 150,000 credited: 10,000 + 10,000 = 20,000
    gains = result.gains.set_index(["action", "record_id"])
    assert gains.loc[("relabel_self_sourced", "D1"), "gain"] == pytest.approx(relabelled - as_is)  # 8,000
    assert gains.loc[("recreate_as_own_lead", "D1"), "gain"] == pytest.approx(relabelled - as_is)
    assert ("relabel_self_sourced", "D2") not in gains.index  # already self-sourced: nothing to gain
    assert gains.loc[("relabel_self_sourced", "D1"), "sentence"] == (
        "this plan pays A1 $8,000 more for re-labelling deal D1 as self-sourced"
    )
    actions = result.actions.set_index("action")
    assert actions.loc["relabel_self_sourced", "flagged"] and actions.loc["relabel_self_sourced", "records"] == 1


def test_the_same_plan_without_the_sourced_multiplier_is_not_flagged_for_it(tables):
    result = check(tables, PLAN.replace("{sales: 1.5}", "{sales: 1.0}"))
    actions = result.actions.set_index("action")
    assert not actions.loc["relabel_self_sourced", "flagged"]
    assert not actions.loc["recreate_as_own_lead", "flagged"]
    assert result.gains[result.gains["action"] == "relabel_self_sourced"].empty


def test_actions_that_pay_nothing_under_the_plan_are_not_flagged(result):
    actions = result.actions.set_index("action")
    # pushing D1 to Q2 loses the accelerator: Q1 30,000 → 3,000 and Q2 80,000 → 8,000 is 11,000 < 12,000
    assert _tiers(30_000) + _tiers(80_000) < _tiers(110_000)
    assert not actions.loc["push_close_date", "flagged"]
    assert not actions.loc["split_deal", "flagged"]  # no SPIF: two halves are paid like the whole
    assert not actions.loc["sandbag_forecast", "flagged"] and actions.loc["sandbag_forecast", "total_gain"] == 0


def test_an_mql_measure_pays_for_inflated_mqls_and_is_flagged_as_not_tied_to_the_north_star(result):
    inflate = result.gains[result.gains["action"] == "inflate_mqls"]
    assert inflate[["user_id", "record_id", "gain"]].values.tolist() == [["A1", "2025-Q1", 25.0]]
    measures = result.measures.set_index("measure")
    assert measures.loc["mqls", "flagged"] and not measures.loc["new_revenue", "flagged"]


def test_a_spif_per_deal_pays_for_splitting_a_deal(tables):
    text = PLAN + "spifs: [{name: per_deal, amount: 300}]\n"
    gains = check(tables, text).gains.set_index(["action", "record_id"])
    assert gains.loc[("split_deal", "D1"), "gain"] == pytest.approx(300)  # two deals, two SPIFs
    assert gains.loc[("split_deal", "D2"), "gain"] == pytest.approx(300)


def test_an_empty_project_pays_nothing_and_flags_no_action():
    empty = Tables(connect("duckdb://:memory:"))
    plan = parse_comp_plans((PLAN, "ae.yaml"))["ae"]
    result = perverse_incentives(records(empty, plan), plan, quota_by_period(empty, plan))
    assert not result.actions["flagged"].any() and result.gains.empty
    assert result.actions["records"].sum() == 0
