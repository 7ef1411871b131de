"""Sales' feedback and drift, each number against a plain pandas / numpy computation on the same leads."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.scoring import (
    psi,
    rejections_by_band,
    rejections_by_rule,
    scaled,
    score_drift,
    score_leads,
    suggest_changes,
)
from revalign.definitions.scoring import ScoringModel
from revalign.model.access import Tables
from revalign.simulate import SimulatedCompany
from tests.analytics.scoring.conftest import END


@pytest.fixture(scope="module")
def scored(tables: Tables, sim_model: ScoringModel) -> pd.DataFrame:
    return tables.to_pandas(score_leads(tables, sim_model, END))


def latest_decisions(company: SimulatedCompany) -> pd.DataFrame:
    led = company.tables["ledger"].to_pandas()
    dec = led[(led["kind"] == "lifecycle") & led["name"].isin(["accepted", "rejected"])]
    dec = dec.sort_values(["occurred_at", "event_id"]).groupby("entity_id").tail(1)
    return dec.set_index("entity_id")[["name", "reason"]]


def test_rejections_by_band_and_reason_match_pandas(tables, company, sim_model, scored) -> None:
    got = tables.to_pandas(rejections_by_band(tables, score_leads(tables, sim_model, END)))
    dec = latest_decisions(company)
    mqls = scored[scored["is_mql"]].join(dec, on="lead_id")
    decided = mqls[mqls["name"].notna()]
    rejected = decided[decided["name"] == "rejected"]
    expected = rejected.groupby(["band", "reason"]).size().rename("rejections").reset_index()
    merged = expected.merge(got, on=["band", "reason"], how="outer", suffixes=("", "_got"))
    assert (merged["rejections"] == merged["rejections_got"]).all() and len(merged) == len(got) > 5
    rate = (decided["name"] == "rejected").groupby(decided["band"]).mean()
    for band, value in rate.items():
        assert got.loc[got["band"] == band, "rejection_rate"].tolist() == pytest.approx(
            [value] * (got["band"] == band).sum()
        )


def test_rejections_by_rule_compare_mqls_with_and_without_the_rules_points(tables, company, sim_model, scored) -> None:
    got = tables.to_pandas(rejections_by_rule(tables, score_leads(tables, sim_model, END), sim_model)).set_index("rule")
    dec = latest_decisions(company)
    decided = scored[scored["is_mql"]].join(dec, on="lead_id")
    decided = decided[decided["name"].notna()]
    with_demo = decided[decided["rule__demo_request"] != 0]
    without = decided[decided["rule__demo_request"] == 0]
    row = got.loc["demo_request"]
    assert (row["mqls_with"], row["mqls_without"]) == (len(with_demo), len(without))
    assert row["rejection_rate_with"] == pytest.approx((with_demo["name"] == "rejected").mean())
    assert row["rejection_rate_without"] == pytest.approx((without["name"] == "rejected").mean())
    # MQLs made by a demo request are rejected far less often than those made by fit and touches alone
    assert row["lift"] < 0.5


def test_a_suggested_change_is_backtested_on_the_same_leads(tables, company, sim_model, scored) -> None:
    got = suggest_changes(tables, sim_model, END, factors=(0.5,)).set_index("rule")
    opps = set(company.tables["opportunities"].to_pandas()["lead_id"].dropna())
    rejected = set(latest_decisions(company).query("name == 'rejected'").index)
    # independent re-score: the segment's fit points halved, the other rules as scored
    rescored = (
        0.5 * scored["rule__segment"] + np.minimum(scored["rule__journey_touch"], 40) + scored["rule__demo_request"]
    )
    mql = rescored >= 60
    converted = scored["lead_id"].isin(opps)
    row = got.loc["segment"]
    assert row["mqls"] == mql.sum() and row["converted"] == (mql & converted).sum()
    assert row["conversion_rate"] == pytest.approx((mql & converted).sum() / mql.sum())
    assert row["rejected_still"] == pytest.approx((mql & scored["lead_id"].isin(rejected)).sum() / len(rejected))
    current = got.loc["(current)"]
    assert current["mqls"] == scored["is_mql"].sum()
    assert row["mql_change"] == pytest.approx(row["mqls"] / current["mqls"] - 1)
    # halving fit points drops the fit-only MQLs sales rejects and keeps the converting ones: suggested
    assert bool(row["suggested"]) and row["converted_kept"] >= 0.95 and row["conversion_change"] > 0
    assert scaled(sim_model, "segment", 0.5).fit[0].points == {"smb": 2.5, "mid_market": 7.5, "enterprise": 12.5}


def numpy_psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(expected / expected.sum(), 1e-4)
    a = np.maximum(actual / actual.sum(), 1e-4)
    return float(((a - e) * np.log(a / e)).sum())


def test_psi_by_hand_and_against_numpy_on_the_score(tables, company, sim_model) -> None:
    # (0.25 − 0.5)·ln(0.5) + (0.75 − 0.5)·ln(1.5) = 0.25·(ln 2 + ln 1.5)
    assert psi({"a": 50, "b": 50}, {"a": 25, "b": 75}) == pytest.approx(0.25 * (math.log(2) + math.log(1.5)))
    assert psi({"a": 3}, {"a": 7}) == 0.0
    baseline, current = (dt.date(2024, 1, 1), dt.date(2024, 6, 30)), (dt.date(2025, 7, 1), dt.date(2025, 12, 31))
    got = score_drift(tables, sim_model, baseline=baseline, current=current).set_index("feature")
    leads = company.tables["leads"].to_pandas()
    counts = []
    for start, end in (baseline, current):
        moment = dt.datetime.combine(end, dt.time(23, 59, 59, 999999))
        s = tables.to_pandas(score_leads(tables, sim_model, moment))
        created = leads[(leads["created_at"] >= pd.Timestamp(start)) & (leads["created_at"] <= moment)]["lead_id"]
        s = s[s["lead_id"].isin(set(created))]
        counts.append((s["score"] // 10 * 10).value_counts())
    both = pd.concat(counts, axis=1).fillna(0.0)
    assert got.loc["score", "psi"] == pytest.approx(numpy_psi(both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()))
    assert got.loc["score", "baseline_leads"] == both.iloc[:, 0].sum()
    assert set(got.index) == {"score", "rule__segment", "rule__journey_touch", "rule__demo_request", "field__segment"}
    assert got.loc["field__segment", "psi"] == pytest.approx(got.loc["rule__segment", "psi"])  # one value ↔ one point
