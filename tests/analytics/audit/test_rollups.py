"""Audit roll-ups: a hand-worked case (each number in the comments), and the simulator's labels per rep."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.audit.findings import FINDING_COLUMNS
from revalign.analytics.audit.rollups import audit_rollups
from revalign.engine import connect
from revalign.model.access import Tables
from revalign.simulate import simulate
from tests.analytics.audit.labelled import findings_from_labels
from tests.analytics.funnel.builders import write

# U1 (team T1 "East") overwrote L1 and its deal O1 (two findings, one won deal of 1,000) in 2025-Q1 and pushed O2's
# close date in 2025-Q2; U2 (team T2 "West") re-created L3 as L4 (deal O4, won 300) in 2025-Q2, and a duplicate
# lead with no actor (2025-Q2) was dismissed. By actor: U1 3 findings (2 headline), 1 won deal, 1,000 at stake;
# U2 1 finding, 300. The dismissed one is nowhere. By quarter: Q1 2 findings 1,000; Q2 2 findings 300.


def _f(fid, kind, etype, entity, actor, when, opp=None, revenue=0.0):
    return {
        "finding_id": fid,
        "kind": kind,
        "entity_type": etype,
        "entity_id": entity,
        "related_id": None,
        "actor_id": actor,
        "occurred_at": pd.Timestamp(when),
        "opportunity_id": opp,
        "revenue_at_stake": revenue,
    }


HAND = pd.DataFrame(
    [
        _f("a", "lead_source_overwrite", "lead", "L1", "U1", "2025-02-01", "O1", 1000.0),
        _f("b", "lead_source_overwrite", "opportunity", "O1", "U1", "2025-02-01", "O1", 1000.0),
        _f("c", "close_date_push", "opportunity", "O2", "U1", "2025-05-01", "O2", 0.0),
        _f("d", "no_opportunity_recreate", "lead", "L4", "U2", "2025-06-30", "O4", 300.0),
        _f("e", "duplicate_lead", "lead", "L5", None, "2025-04-02"),
    ]
).reindex(columns=list(FINDING_COLUMNS))


@pytest.fixture
def people(duckdb_engine):
    write(
        duckdb_engine,
        users=[
            {"user_id": "U1", "name": "Ann", "team_id": "T1"},
            {"user_id": "U2", "name": "Bob", "team_id": "T2"},
        ],
        teams=[{"team_id": "T1", "name": "East"}, {"team_id": "T2", "name": "West"}],
    )
    return Tables(duckdb_engine)


def test_hand_worked_rollups(people):
    r = audit_rollups(people, HAND, {"e": "dismissed", "d": "confirmed"})
    actor = r.by_actor.set_index("actor_id")
    assert actor.index.tolist() == ["U1", "U2"]  # most revenue at stake first
    assert actor.loc["U1", ["name", "team"]].tolist() == ["Ann", "East"]
    assert actor.loc["U1", ["findings", "headline_findings", "confirmed", "won_deals"]].tolist() == [3, 2, 0, 1]
    assert actor.loc["U1", "revenue_at_stake"] == 1000.0  # O1 once, not twice
    assert actor.loc["U2", ["findings", "confirmed", "won_deals", "revenue_at_stake"]].tolist() == [1, 1, 1, 300.0]
    assert r.by_team.set_index("team")["revenue_at_stake"].to_dict() == {"East": 1000.0, "West": 300.0}
    q = r.by_quarter.set_index("quarter")
    assert q["findings"].to_dict() == {"2025-Q1": 2, "2025-Q2": 2}
    assert q["revenue_at_stake"].to_dict() == {"2025-Q1": 1000.0, "2025-Q2": 300.0}
    trend = r.trend.set_index(["kind", "quarter"])["findings"].to_dict()
    assert trend == {
        ("lead_source_overwrite", "2025-Q1"): 2,
        ("no_opportunity_recreate", "2025-Q2"): 1,
        ("close_date_push", "2025-Q2"): 1,
    }
    assert list(r.trend["kind"]) == ["lead_source_overwrite", "no_opportunity_recreate", "close_date_push"]


def test_unknown_actor_is_kept_and_fiscal_quarters_apply(people):
    r = audit_rollups(people, HAND, fiscal_year_start_month=2)
    assert r.by_actor.set_index("actor_id").loc["unknown", "findings"] == 1
    assert r.by_team.set_index("team_id").loc["unknown", "findings"] == 1
    # fiscal years starting in February are named by the year they end in: FY2026-Q1 is Feb-Apr 2025 (a, b and the
    # undismissed e of 04-02), FY2026-Q2 May-Jul (c 05-01, d 06-30)
    assert r.by_quarter.set_index("quarter")["findings"].to_dict() == {"FY2026-Q1": 3, "FY2026-Q2": 2}


def test_rollups_of_the_simulators_labels_name_the_gaming_reps():
    company = simulate(scale="xs", seed=0)
    eng = connect("duckdb://:memory:")
    company.write(eng)
    frames = {n: eng.execute(eng.table(n)) for n in ("opportunities", "ledger")}
    labels = company.truth.labels.to_pandas()
    findings = findings_from_labels(labels, frames["opportunities"], frames["ledger"])
    r = audit_rollups(Tables(eng), findings)
    expected = findings["actor_id"].fillna("unknown").value_counts()
    assert r.by_actor.set_index("actor_id")["findings"].sort_index().to_dict() == expected.sort_index().to_dict()
    won = findings.dropna(subset=["opportunity_id"]).drop_duplicates(["actor_id", "opportunity_id"])
    money = won.groupby(won["actor_id"].fillna("unknown"))["revenue_at_stake"].sum()
    got = r.by_actor.set_index("actor_id")["revenue_at_stake"]
    assert got[got > 0].round(2).sort_index().to_dict() == money[money > 0].round(2).sort_index().to_dict()
    assert r.trend["findings"].sum() == len(findings)
    eng.close()
