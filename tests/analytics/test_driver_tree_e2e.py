"""End to end on the simulator: the north star's decomposition between two quarters adds up to the change measured
independently with pandas from the raw opportunities table; drivers match raw counts; scorecard and alignment run
on real KPI values."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from revalign.engine import connect
from revalign.project import Project
from revalign.simulate import simulate


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    engine = connect("duckdb://:memory:")
    simulate(scale="s", seed=0).write(engine)
    project = Project(tmp_path_factory.mktemp("sim"), engine=engine)
    yield project, engine
    engine.close()


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def sim_on(request, tmp_path_factory):
    """The simulator on DuckDB (shared with the other tests) and on a real PostgreSQL server.

    Not on Spark: the same run takes ~200 s there, over the suite's budget; the KPI engine's own tests cover Spark.
    """
    if request.param == "duckdb":
        yield request.getfixturevalue("sim")
        return
    from tests.conftest import make_engine

    engine = make_engine(request.param, request)
    simulate(scale="s", seed=0).write(engine)
    yield Project(tmp_path_factory.mktemp("sim-pg"), engine=engine), engine
    engine.close()


def quarter_of(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.to_period("Q").astype(str)


def test_north_star_decomposition_adds_up_to_the_change_in_raw_opportunities(sim_on):
    project, engine = sim_on
    d = project.decompose(start="2025-Q1", end="2025-Q2")
    assert (d.tree, d.root, d.period_from, d.period_to) == ("revenue", "new_revenue", "2025-Q1", "2025-Q2")

    # independent: closed-won new-business amount by close quarter, straight from the raw table
    opps = engine.execute(engine.table("opportunities"))
    won = opps[opps["is_won"] & (opps["deal_type"] == "new_business")].assign(q=lambda f: quarter_of(f["closed_at"]))
    revenue = won.groupby("q")["amount"].sum()
    deals = won.groupby("q")["amount"].size()
    assert math.isclose(d.value_from, revenue["2025Q1"], rel_tol=1e-12)
    assert math.isclose(d.value_to, revenue["2025Q2"], rel_tol=1e-12)
    measured = revenue["2025Q2"] - revenue["2025Q1"]
    assert d.change == pytest.approx(measured, rel=1e-12)

    # contributions + residual = the measured change, exactly
    leaves = [r.contribution for r in d.leaf_rows()]
    assert None not in leaves
    assert math.isclose(math.fsum(leaves), measured, rel_tol=1e-12, abs_tol=1e-6)
    assert math.isclose(math.fsum(r.contribution_pct for r in d.leaf_rows()), d.pct_change, rel_tol=1e-9)

    rows = {r.kpi: r for r in d.rows if r.kind == "driver"}
    # drivers recomputed from raw tables: leads created per quarter; average deal size = revenue / deals won
    leads = engine.execute(engine.table("leads"))
    lead_counts = quarter_of(leads["created_at"]).value_counts()
    assert rows["new_leads"].value_from == lead_counts["2025Q1"]
    assert rows["new_leads"].value_to == lead_counts["2025Q2"]
    for q, row_value in (
        ("2025Q1", rows["average_deal_size"].value_from),
        ("2025Q2", rows["average_deal_size"].value_to),
    ):
        assert math.isclose(row_value, revenue[q] / deals[q], rel_tol=1e-12)

    # the Shapley split recomputed by brute force over all 4! orders of switching the drivers
    names = ["new_leads", "lead_to_opportunity_rate", "win_rate", "average_deal_size"]
    before = {k: rows[k].value_from for k in names}
    after = {k: rows[k].value_to for k in names}
    credit = dict.fromkeys(names, 0.0)
    for order in itertools.permutations(names):
        current = dict(before)
        for k in order:
            old = math.prod(current.values())
            current[k] = after[k]
            credit[k] += (math.prod(current.values()) - old) / math.factorial(len(names))
    for k in names:
        assert math.isclose(rows[k].contribution, credit[k], rel_tol=1e-9, abs_tol=1e-6), k
    formula_change = math.prod(after.values()) - math.prod(before.values())
    assert math.isclose(d.residual, measured - formula_change, rel_tol=1e-9, abs_tol=1e-6)
    assert d.summary().startswith("New revenue (closed-won)")


def test_decomposition_of_one_segment_matches_its_raw_opportunities(sim):
    project, engine = sim
    d = project.decompose(start="2025-Q1", end="2025-Q2", where="segment = 'enterprise'")
    opps = engine.execute(engine.table("opportunities"))
    won = opps[opps["is_won"] & (opps["deal_type"] == "new_business") & (opps["segment"] == "enterprise")]
    revenue = won.groupby(quarter_of(won["closed_at"]))["amount"].sum()
    measured = revenue["2025Q2"] - revenue["2025Q1"]
    assert d.where == "segment = 'enterprise'" and d.to_dict()["where"] == d.where
    assert math.isclose(d.value_from, revenue["2025Q1"], rel_tol=1e-12)
    assert math.isclose(math.fsum(r.contribution for r in d.leaf_rows()), measured, rel_tol=1e-12, abs_tol=1e-6)
    leads = engine.execute(engine.table("leads"))
    enterprise = leads[leads["segment"] == "enterprise"]
    counts = quarter_of(enterprise["created_at"]).value_counts()
    row = next(r for r in d.rows if r.kpi == "new_leads")
    assert (row.value_from, row.value_to) == (counts["2025Q1"], counts["2025Q2"])


def test_scorecard_and_alignment_on_the_simulator(sim):
    project, engine = sim
    card = project.scorecard("marketing", period="2025-Q2")
    assert card.rows[0].is_north_star and card.rows[0].kpi == "new_revenue"
    assert {r.department for r in card.rows[1:]} == {"marketing"}
    leads = engine.execute(engine.table("leads"))
    counts = quarter_of(leads["created_at"]).value_counts()
    row = card.row("new_leads")
    assert (row.actual, row.previous) == (counts["2025Q2"], counts["2025Q1"])
    assert row.trend == tuple(counts[q] for q in ("2024Q3", "2024Q4", "2025Q1", "2025Q2"))
    assert row.status == "no_target"  # the shipped targets are for 2026

    result = project.alignment(period="2025-Q2", department="marketing")
    assert result.period == "2025-Q2"
    for finding in result.findings:  # every finding names marketing and restates the scorecard's own values
        assert "marketing" in finding.departments
        for kpi, facts in finding.values.items():
            if kpi in {r.kpi for r in card.rows}:
                assert facts["actual"] == card.row(kpi).actual
        if finding.kind == "driver_improving_parent_worsening":
            child, parent = finding.kpis
            assert finding.values[child]["movement"] == "improving"
            assert finding.values[parent]["movement"] == "worsening"
