"""On the simulated company (scale s), against its ground truth: the labelled gamers are the reps gaming paid most,
and payout as recorded − as audited is exactly the pay attached to the labelled gaming events.

The audit's findings are the labels themselves (a perfect detector, ``tests/analytics/audit/labelled.py``), so the
test checks the incentives code, not the detectors' recall. The events credit audit undoes are the two that move a
deal's source (``lead_source_overwrite``, ``no_opportunity_recreate``); a pushed close date is not undone by audited
credit, so it is not part of recorded − audited.

Ranking measure: the ground truth labels a rep as a gamer or not (``lead_source_gamers``), a binary label, so the
measure is the ranking's precision at k = the number of labelled gamers (equivalently, every gamer ranked above
every other rep: a ROC AUC of 1). A rank correlation would need a graded truth the simulator does not give.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.audit.credit import audited_tables
from revalign.analytics.incentives.check import gaming_gains
from revalign.analytics.incentives.credit import credit_lines
from revalign.analytics.incentives.payout import payouts, quota_by_period
from revalign.definitions.comp import parse_comp_plans
from revalign.engine import connect
from revalign.model.access import Tables
from revalign.simulate import simulate
from tests.analytics.audit.labelled import findings_from_labels

PLAN = """\
name: ae
version: 1
roles: [ae]
target_variable_pay: 12000
measures:
  - {name: new_revenue, kind: credited_new_revenue, north_star: true, weight: 1.0, quota: quotas,
     tiers: [{upto: 0.5, rate: 0.04}, {upto: 1.0, rate: 0.08}, {rate: 0.12}]}
credit:
  sourced_multipliers: {sales: 1.5}
"""
TIERS = ((0.0, 0.5, 0.04), (0.5, 1.0, 0.08), (1.0, float("inf"), 0.12))


def pay(credit: float, quota: float) -> float:
    """The plan's tiers by hand: marginal rates over quota attainment (no quota: all at the first rate)."""
    if not quota > 0:
        return credit * TIERS[0][2]
    return sum(max(min(credit, hi * quota) - lo * quota, 0.0) * rate for lo, hi, rate in TIERS)


@pytest.fixture(scope="module")
def company():
    return simulate(scale="s", seed=0)


@pytest.fixture(scope="module")
def tables(company):
    eng = connect("duckdb://:memory:")
    company.write(eng)
    yield Tables(eng)
    eng.close()


@pytest.fixture(scope="module")
def plan():
    return parse_comp_plans((PLAN, "ae.yaml"))["ae"]


@pytest.fixture(scope="module")
def both(company, tables, plan):
    labels = company.truth.labels.to_pandas()
    labels = labels[labels["kind"].isin(("lead_source_overwrite", "no_opportunity_recreate"))]
    ledger = tables.table("ledger")
    ids = sorted(set(labels["entity_id"].dropna()) | set(labels["related_id"].dropna()))
    ledger = tables.to_pandas(ledger.filter(ledger.entity_id.isin(ids)))  # the labelled records' events only
    findings = findings_from_labels(labels, tables.to_pandas(tables.table("opportunities")), ledger)
    quotas = quota_by_period(tables, plan)
    recorded = payouts(credit_lines(tables, plan), plan, quotas)
    audited = payouts(credit_lines(audited_tables(tables, findings), plan), plan, quotas)
    return recorded, audited


def labelled_pay(company, tables) -> pd.Series:
    """Per rep: pay on credit as recorded − pay on credit with every labelled deal at its true source, in plain
    pandas from the opportunities, the quotas and the ground truth's true lead sources."""
    opps = tables.to_pandas(tables.table("opportunities"))
    won = opps[opps["is_won"].astype(bool) & (opps["deal_type"] == "new_business") & opps["closed_at"].notna()]
    true = won["lead_id"].map(company.truth.true_sources).fillna(won["lead_source"])
    closed = pd.to_datetime(won["closed_at"])
    won = won.assign(
        period=closed.dt.year.astype(str) + "-Q" + closed.dt.quarter.astype(str),
        rec=won["amount"] * won["lead_source"].eq("outbound_sales").map({True: 1.5, False: 1.0}),
        aud=won["amount"] * true.eq("outbound_sales").map({True: 1.5, False: 1.0}),
    )
    q = tables.to_pandas(tables.table("quotas"))
    start = pd.to_datetime(q["period_start"])
    q = q.assign(period=start.dt.year.astype(str) + "-Q" + start.dt.quarter.astype(str))
    quota = q.groupby(["user_id", "period"])["amount"].sum()
    per = won.groupby(["owner_id", "period"])[["rec", "aud"]].sum()
    diff = [pay(r.rec, quota.get(k, 0.0)) - pay(r.aud, quota.get(k, 0.0)) for k, r in per.iterrows()]
    return pd.Series(diff, index=per.index).groupby(level=0).sum()


def test_recorded_minus_audited_is_the_pay_attached_to_the_labelled_gaming(company, tables, both):
    recorded, audited = both
    expected = labelled_pay(company, tables)
    got = gaming_gains(recorded, audited).set_index("user_id")["gained"]
    assert expected.sum() > 10_000  # the test could not pass by accident: gaming moved real pay
    assert got.sum() == pytest.approx(expected.sum(), abs=0.01)
    assert got.reindex(expected.index).to_numpy() == pytest.approx(expected.to_numpy(), abs=0.01)


def test_the_labelled_gamers_are_the_reps_gaming_paid_most(company, both):
    ranked = gaming_gains(*both)
    gamers = set(company.truth.reps["lead_source_gamers"])
    k = len(gamers)
    assert k >= 1
    assert set(ranked["user_id"].head(k)) == gamers  # precision at k = 1
    assert (
        ranked.loc[ranked["user_id"].isin(gamers), "gained"].min()
        > ranked.loc[~ranked["user_id"].isin(gamers), "gained"].max()
    )
