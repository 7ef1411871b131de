"""Plans compared side by side, and the alignment of pay, on the hand-worked company (incentives/hand.py).

Two plans over the window [2024-10-01, 2025-07-01) — every deal was created on 2024-12-01, inside it:

- ``team_plan`` (hand.py, worked out in test_payout.py): payouts A1 3,000 + 9,800, A2 3,000 + 3,000, S1 3,000 + 3,000,
  M1 3,000 + 3,000;
- ``flat_plan`` (below): 5 % of credited new revenue (north star) + 1 % of sales-sourced pipeline (not), no splits,
  multipliers, SPIFs, draws or clawbacks:
    new revenue  A1: O4 10,000 (Q1) + O1 80,000 + O2 60,000 (Q2) → 500 + 7,000;  A2: O3 30,000 (Q1) → 1,500
    pipeline     A1: O2 60,000 outbound_sales, created 2024-Q4 → 600 (the only sales-sourced deal)
  so A1 8,100 and A2 1,500; S1 and M1 are members who earn nothing (no lines, no quota, no draw: no payout row).

Won new-business revenue: 10,000 + 30,000 + 80,000 + 60,000 = 180,000. Audited contribution per deal owner:
A1 150,000, A2 30,000, S1 and M1 0 (no findings on this company: as recorded).
"""

from __future__ import annotations

import math

import pytest
import scipy.stats
from typer.testing import CliRunner

from revalign.analytics.incentives.alignment import (
    audited_contribution,
    paid_north_star_share,
    person_north_star_share,
    spearman,
)
from revalign.analytics.incentives.compare import PlanRun, compare_plans, gini, top_decile_share
from revalign.analytics.incentives.credit import lines_from_records, members, people_records, records
from revalign.analytics.incentives.payout import payouts, quota_by_period
from revalign.definitions.comp import parse_comp_plans
from revalign.errors import CatalogError, PermissionDenied
from revalign.model.access import Tables
from tests.analytics.incentives.hand import PLAN_YAML, plan, write_company

START, END = "2024-10-01", "2025-07-01"
FLAT_YAML = """\
name: flat_plan
version: 1
roles: [ae, sdr, manager]
period: quarter
target_variable_pay: 10000
measures:
  - {name: new_revenue, kind: credited_new_revenue, north_star: true, weight: 0.5, rate: 0.05}
  - {name: pipeline, kind: sourced_pipeline, north_star: false, weight: 0.5, rate: 0.01}
"""
REVENUE = 10_000 + 30_000 + 80_000 + 60_000
CONTRIBUTION = {"A1": 10_000 + 80_000 + 60_000, "A2": 30_000, "S1": 0, "M1": 0}
TEAM_PAY = {"A1": 3_000 + 9_800, "A2": 3_000 + 3_000, "S1": 3_000 + 3_000, "M1": 3_000 + 3_000}
FLAT_PAY = {"A1": 10_000 * 0.05 + (80_000 + 60_000) * 0.05 + 60_000 * 0.01, "A2": 30_000 * 0.05}


def _flat():
    return parse_comp_plans((FLAT_YAML, "flat_plan.yaml"))["flat_plan"]


def _run(tables, spec):
    recs = records(tables, spec, start=START, end=END)
    pay = payouts(lines_from_records(recs, spec), spec, quota_by_period(tables, spec), people=recs.people)
    return PlanRun(f"{spec.name} v{spec.version}", spec, pay, members(spec, people_records(tables)))


@pytest.fixture(scope="module")
def tables(module_engine):
    write_company(module_engine)
    return Tables(module_engine)


@pytest.fixture(scope="module")
def comparison(tables):
    contribution = audited_contribution(tables, start=START, end=END)
    return compare_plans([_run(tables, plan()), _run(tables, _flat())], contribution, new_revenue=REVENUE)


def test_audited_contribution_is_won_revenue_per_owner(tables):
    got = audited_contribution(tables, start=START, end=END).set_index("user_id")["audited_revenue"].to_dict()
    assert got == pytest.approx({k: v for k, v in CONTRIBUTION.items() if v})


def test_totals_and_cost_share_by_hand(comparison):
    s = comparison.summary.set_index("plan")
    assert s.loc["team_plan v1", "total_cost"] == pytest.approx(sum(TEAM_PAY.values()))  # 30,800
    assert s.loc["flat_plan v1", "total_cost"] == pytest.approx(8_100 + 1_500)
    assert s.loc["team_plan v1", "cost_share"] == pytest.approx(30_800 / 180_000)
    assert s.loc["flat_plan v1", "cost_share"] == pytest.approx(9_600 / 180_000)
    assert s.loc["flat_plan v1", "people"] == 2 and s.loc["team_plan v1", "people"] == 4


def test_distribution_by_hand(comparison):
    s = comparison.summary.set_index("plan")
    team, flat = s.loc["team_plan v1"], s.loc["flat_plan v1"]
    # team: sorted 6,000 6,000 6,000 12,800; p90 at position 0.9 × 3 = 2.7 → 6,000 + 0.7 × 6,800
    assert (team["median_payout"], team["p90_payout"], team["max_payout"]) == pytest.approx((6_000, 10_760, 12_800))
    # Gini Σ(2i − n − 1)x ÷ (n Σx): (−3·6,000 − 6,000 + 6,000 + 3·12,800) ÷ (4 × 30,800)
    assert team["gini"] == pytest.approx(20_400 / 123_200)
    assert team["top_decile_share"] == pytest.approx(12_800 / 30_800)  # ⌈4/10⌉ = 1 person
    # flat: 1,500 and 8,100; p90 = 1,500 + 0.9 × 6,600; Gini (−1,500 + 8,100) ÷ (2 × 9,600)
    assert (flat["median_payout"], flat["p90_payout"], flat["max_payout"]) == pytest.approx((4_800, 7_440, 8_100))
    assert flat["gini"] == pytest.approx(6_600 / 19_200)
    assert flat["top_decile_share"] == pytest.approx(8_100 / 9_600)


def test_alignment_of_pay_by_hand(comparison):
    s = comparison.summary.set_index("plan")
    assert s.loc["flat_plan v1", "north_star_share"] == pytest.approx(0.5)  # as written: the weights
    # as paid: 9,000 of the 9,600 the measures earned came from new revenue
    assert s.loc["flat_plan v1", "paid_north_star_share"] == pytest.approx(9_000 / 9_600)
    assert s.loc["team_plan v1", "paid_north_star_share"] == pytest.approx(1.0)  # one north-star measure + SPIF
    people = comparison.people[comparison.people["plan"] == "flat_plan v1"].set_index("user_id")
    assert people["north_star_share"].to_dict() == pytest.approx(
        {"A1": 7_500 / 8_100, "A2": 1.0, "M1": math.nan, "S1": math.nan}, nan_ok=True
    )
    assert people["payout"].to_dict() == pytest.approx({**FLAT_PAY, "S1": 0.0, "M1": 0.0})


@pytest.mark.parametrize("pay", [TEAM_PAY, {**FLAT_PAY, "S1": 0.0, "M1": 0.0}])
def test_rank_correlation_equals_scipy(comparison, pay):
    label = "team_plan v1" if pay is TEAM_PAY else "flat_plan v1"
    ids = sorted(CONTRIBUTION)
    expected = scipy.stats.spearmanr([pay[i] for i in ids], [CONTRIBUTION[i] for i in ids]).statistic
    assert comparison.summary.set_index("plan").loc[label, "rank_correlation"] == pytest.approx(expected)
    people = comparison.people[comparison.people["plan"] == label].set_index("user_id").loc[ids]
    assert people["audited_revenue"].tolist() == [CONTRIBUTION[i] for i in ids]


def test_small_helpers_against_independent_values():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    x, y = rng.integers(0, 5, 30).astype(float), rng.normal(size=30)  # ties in x
    assert spearman(pd.Series(x), pd.Series(y)) == pytest.approx(scipy.stats.spearmanr(x, y).statistic)
    assert math.isnan(spearman(pd.Series([1.0, 1.0]), pd.Series([1.0, 2.0])))
    # Gini as the mean absolute difference over twice the mean: Σᵢⱼ|xᵢ − xⱼ| ÷ (2n²·mean)
    v = rng.uniform(0, 100, 25)
    assert gini(v) == pytest.approx(np.abs(v[:, None] - v[None, :]).sum() / (2 * 25**2 * v.mean()))
    assert gini([5.0] * 4) == pytest.approx(0.0)
    assert top_decile_share(list(range(1, 21))) == pytest.approx((20 + 19) / 210)  # ⌈20/10⌉ = 2 people


def test_statement_shares_use_the_plans_north_star_measures(tables):
    run = _run(tables, _flat())
    assert paid_north_star_share(run.payouts.statements, run.plan) == pytest.approx(9_000 / 9_600)
    per = person_north_star_share(run.payouts.statements, run.plan).set_index("user_id")["north_star_share"]
    assert per.to_dict() == pytest.approx({"A1": 7_500 / 8_100, "A2": 1.0})


# -- the façade and the CLI: a draft plan file over past periods ---------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    from revalign.project import init_project, open_project

    folder = tmp_path_factory.mktemp("compare")
    init_project(folder, name="compare")
    (folder / "comp_plans").mkdir()
    (folder / "comp_plans" / "team_plan.yaml").write_text(PLAN_YAML)
    (folder / "drafts").mkdir()
    (folder / "drafts" / "flat.yaml").write_text(FLAT_YAML)
    (folder / "drafts" / "broken.yaml").write_text(FLAT_YAML.replace("rate: 0.01", "rate: -1"))
    proj = open_project(folder)
    write_company(proj.engine)
    yield proj
    proj.close()


def test_a_draft_is_compared_with_the_plan_in_force(project):
    draft = project.comp_draft(project.folder / "drafts" / "flat.yaml")
    got = project.comp_compare(["team_plan"], viewer=None, drafts=[draft], start=START, end=END)
    s = got.summary.set_index("plan")
    assert list(s.index) == ["team_plan v1", "flat_plan v1 (draft)"]
    assert s["total_cost"].tolist() == pytest.approx([30_800, 9_600])
    assert s["new_revenue"].tolist() == pytest.approx([REVENUE, REVENUE])


def test_a_broken_draft_names_its_file_and_line(project):
    with pytest.raises(CatalogError) as err:
        project.comp_draft(project.folder / "drafts" / "broken.yaml")
    assert "broken.yaml:8" in str(err.value) and "rate" in str(err.value)


def test_only_pay_roles_compare_plans(project):
    from revalign.analytics.privacy import Viewer

    with pytest.raises(PermissionDenied):
        project.comp_compare(["team_plan"], viewer=Viewer("A1", frozenset({"rep"})), start=START, end=END)
    ok = project.comp_compare(["team_plan"], viewer=Viewer(None, frozenset({"finance"})), start=START, end=END)
    assert ok.summary["total_cost"].tolist() == pytest.approx([30_800])


def test_cli_compare(project, capsys):
    import json

    from revalign.interfaces.cli import app, main

    folder = str(project.folder)
    args = ["comp", "compare", "team_plan", "--draft", f"{folder}/drafts/flat.yaml", "--from", START, "--to", END]
    out = CliRunner().invoke(app, [*args, "--project", folder, "--json"])
    assert out.exit_code == 0, out.output
    summary = {r["plan"]: r for r in json.loads(out.output)["summary"]}
    assert summary["flat_plan v1 (draft)"]["total_cost"] == pytest.approx(9_600)
    table = CliRunner().invoke(app, [*args, "--project", folder])
    assert table.exit_code == 0 and "Alignment of pay" in table.output, table.output
    code = main(["comp", "compare", "--draft", f"{folder}/drafts/broken.yaml", "--project", folder])
    shown = capsys.readouterr()
    assert code != 0 and "broken.yaml:8" in shown.out + shown.err
