"""Rule-based scores: a hand-worked case on every engine, and the simulator's own scoring rule reproduced exactly.

The hand case (as of 2024-02-01 00:00, half-life 10 days: a touch 10 days old is worth half, 20 days a quarter):

    L1 enterprise (+20); a visit 10 days old (10·½ = 5) and a webinar at as_of (10 + 8); a touch after as_of
       does not count → engagement 23 (cap 25) → 43: band B (≥ 30), an MQL (≥ 40)
    L2 smb (+5), education (−15); three touches at as_of (30) and a demo request 20 days old (touch 10·¼ = 2.5,
       demo 30·¼ = 7.5, own group) → engagement 32.5, capped at 25 → 5 + 25 + 7.5 − 15 = 22.5: band C
    L3 mid_market (not listed: 0); MQL on 01-20: its touch on 01-22 does not count; a touch 20 days old (2.5) and
       an unsubscribe 30 days old (touch 10·⅛ = 1.25, penalty −25·⅛ = −3.125) → 3.75 − 3.125 = 0.625
    L4 created after as_of: not scored
    L5 enterprise (+20), education (−15); two touches at as_of (20) that are unsubscribes (once per lead: −25)
       → negative −40, capped at −30 → 20 + 20 − 30 = 10
    L6 smb (+5); its MQL on 01-25 was recorded only on 02-05 (after as_of), so its touch on 01-27 still counts:
       10·2^(−5/10) → 5 + 7.071… = 12.071…
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.scoring import score_leads
from revalign.definitions.scoring import default_scoring, parse_scoring
from revalign.engine import Engine
from revalign.model.access import Tables
from revalign.model.tables import canonical_table
from revalign.simulate import SimulatedCompany
from tests.analytics.funnel.builders import frame, ledger_rows, write
from tests.analytics.scoring.conftest import END

HAND = """
scoring:
  name: hand
  version: 1
  owners: [{name: M, department: marketing}, {name: S, department: sales}]
  fit:
    - {name: segment, field: segment, points: {enterprise: 20, smb: 5}}
  engagement:
    - {name: touch, points: 10}
    - {name: webinar, match: {channel: [webinar]}, points: 8}
    - {name: demo, match: {interaction: [demo_request]}, points: 30, per: lead, group: intent}
  negative:
    - {name: students, field: industry, points: {education: -15}}
    - {name: unsubscribed, match: {interaction: [unsubscribe]}, points: -25, per: lead}
  caps: {engagement: 25, negative: 30}
  half_life_days: 10
  touches_until: mql
  mql_threshold: 40
  bands: {A: 50, B: 30, C: 0}
"""
AS_OF = dt.datetime(2024, 2, 1)


def _touch(i: int, lead: str, when: str, channel: str = "email", interaction: str = "visit") -> dict[str, object]:
    return {
        "touchpoint_id": f"t{i}",
        "lead_id": lead,
        "occurred_at": when,
        "channel": channel,
        "interaction": interaction,
    }


def write_hand_case(engine: Engine) -> None:
    leads = [
        {"lead_id": "L1", "segment": "enterprise", "industry": "software"},
        {"lead_id": "L2", "segment": "smb", "industry": "education"},
        {"lead_id": "L3", "segment": "mid_market", "industry": "retail"},
        {"lead_id": "L4", "segment": "enterprise", "created_at": "2024-03-01"},
        {"lead_id": "L5", "segment": "enterprise", "industry": "education"},
        {"lead_id": "L6", "segment": "smb"},
    ]
    touches = [
        _touch(1, "L1", "2024-01-22"),
        _touch(2, "L1", "2024-02-01", "webinar"),
        _touch(3, "L1", "2024-02-02"),
        *[_touch(4 + i, "L2", "2024-02-01") for i in range(3)],
        _touch(7, "L2", "2024-01-12", interaction="demo_request"),
        _touch(8, "L3", "2024-01-12"),
        _touch(9, "L3", "2024-01-22"),
        _touch(10, "L3", "2024-01-02", interaction="unsubscribe"),
        _touch(11, "L5", "2024-02-01", interaction="unsubscribe"),
        _touch(12, "L5", "2024-02-01", interaction="unsubscribe"),
        _touch(13, "L6", "2024-01-27"),
    ]
    ledger = ledger_rows(
        [("lead", "L3", "lifecycle", "mql", "2024-01-20"), ("lead", "L6", "lifecycle", "mql", "2024-01-25")]
    )
    ledger[1]["recorded_at"] = pd.Timestamp("2024-02-05")
    spec = canonical_table("ledger")
    write(engine, leads=leads, touchpoints=touches)
    engine.write("ledger", frame("ledger", ledger), schema=spec.schema)


EXPECTED = {
    "L1": (43.0, "B", True),
    "L2": (22.5, "C", False),
    "L3": (0.625, "C", False),
    "L5": (10.0, "C", False),
    "L6": (5 + 10 * 2**-0.5, "C", False),
}


def test_hand_worked_scores_on_every_engine(engine: Engine) -> None:
    write_hand_case(engine)
    model = parse_scoring(HAND, "hand.yaml")
    got = Tables(engine).to_pandas(score_leads(Tables(engine), model, AS_OF)).set_index("lead_id").sort_index()
    assert list(got.index) == sorted(EXPECTED)  # L4 was created after as_of
    for lead, (score, band, mql) in EXPECTED.items():
        assert got.loc[lead, "score"] == pytest.approx(score, abs=1e-9), lead
        assert (got.loc[lead, "band"], bool(got.loc[lead, "is_mql"])) == (band, mql), lead
    # the rule columns say where the points came from (before caps)
    assert got.loc["L2", ["rule__touch", "rule__demo", "rule__students"]].tolist() == pytest.approx([32.5, 7.5, -15])
    assert got.loc["L5", "rule__unsubscribed"] == pytest.approx(-25.0)


# ------------------------------------------------------------------------------------------ the simulator's own rule


def test_simulator_rule_reproduces_the_simulators_scores_and_mql_decisions(company, tables) -> None:
    """Given the simulator's parameters (``scoring_models/simulator.yaml``), every score equals ``leads.score`` and
    every MQL decision the simulator had made by the end (its journey ended) equals its ledger's ``mql``.

    Scored once everything the simulator wrote is known: some MQLs of the last days are recorded (exported) only
    in the new year, and until then the SDR's follow-up call after them still counts as engagement.
    """
    model = default_scoring()[("lead_score", 1)]
    known = company.tables["ledger"].to_pandas()["recorded_at"].max().to_pydatetime()
    assert known > END
    got = tables.to_pandas(score_leads(tables, model, known))
    leads = company.tables["leads"].to_pandas()
    truth = company.truth.leads.to_pandas()
    scored = leads[leads["score"].notna()].merge(got, on="lead_id", suffixes=("_sim", ""))
    assert len(scored) == leads["score"].notna().sum() > 4000
    assert (scored["score"] == scored["score_sim"]).all()  # exactly, not approximately
    ledger = company.tables["ledger"].to_pandas()
    mqls = set(ledger.loc[(ledger["kind"] == "lifecycle") & (ledger["name"] == "mql"), "entity_id"])
    decided = scored.merge(truth[["lead_id", "conversion_at"]], on="lead_id")
    undecided = decided[decided["conversion_at"] > END]
    decided = decided[decided["conversion_at"] <= END]  # the simulator decides at the end of the journey
    assert len(decided) > 0.85 * len(scored)
    assert not undecided["lead_id"].isin(mqls).any()  # a journey still running has no MQL decision yet
    assert (decided["is_mql"] == decided["lead_id"].isin(mqls)).all()
    assert decided["is_mql"].sum() == len(mqls & set(decided["lead_id"])) > 500


def oracle(company: SimulatedCompany, as_of: dt.datetime) -> pd.Series:
    """The simulator rule in plain pandas: fit 5/15/25 + min(5 × touches before the MQL, 40) + 60 per demo."""
    leads = company.tables["leads"].to_pandas()
    leads = leads[leads["created_at"] <= as_of]
    t = company.tables["touchpoints"].to_pandas()
    t = t[t["occurred_at"] <= as_of]
    led = company.tables["ledger"].to_pandas()
    mql = led[(led["name"] == "mql") & (led["recorded_at"] <= as_of) & (led["occurred_at"] <= as_of)]
    cutoff = mql.groupby("entity_id")["occurred_at"].min()
    t = t.assign(cutoff=t["lead_id"].map(cutoff))
    t = t[t["cutoff"].isna() | (t["occurred_at"] < t["cutoff"])]
    n = t.groupby("lead_id").size()
    demo = t[t["interaction"] == "demo_request"].groupby("lead_id").size() > 0
    fit = leads["segment"].map({"smb": 5.0, "mid_market": 15.0, "enterprise": 25.0}).fillna(0.0)
    touches = np.minimum(5.0 * leads["lead_id"].map(n).fillna(0), 40.0)
    demos = 60.0 * leads["lead_id"].map(demo).fillna(False).astype(float)
    return pd.Series((fit + touches + demos).to_numpy(), index=leads["lead_id"].to_numpy())


def test_scores_as_of_a_past_day_use_nothing_known_later(company, tables) -> None:
    model = default_scoring()[("lead_score", 1)]
    as_of = dt.datetime(2025, 3, 31, 23, 59, 59)
    got = tables.to_pandas(score_leads(tables, model, as_of)).set_index("lead_id")["score"].sort_index()
    expected = oracle(company, as_of).sort_index()
    assert list(got.index) == list(expected.index)
    assert (got.to_numpy() == expected.to_numpy()).all()
    # and the day before the data starts, nobody is scored
    assert tables.to_pandas(score_leads(tables, model, dt.date(2023, 12, 31))).empty
