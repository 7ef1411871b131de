"""``revalign targets`` and the demo's plan, end to end on a small simulated company.

The demo plans 2025 from 2024 (departments +20 % on last year's quarter, +2 points on rates, for the KPIs each is
measured on; the board doubles new revenue). The north star's target and actual, and the win rate's target, are
recomputed here in plain pandas from the canonical opportunities, not through the KPI engine.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from revalign.interfaces.cli import main
from revalign.interfaces.cli.demo import DEMO_PLAN, plan_demo_targets
from revalign.project import open_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--folder", str(folder), "--no-serve", "--scale", "xs", "--seed", "0"]) == 0
    return folder


@pytest.fixture(scope="module")
def demo(demo_folder: Path):
    project = open_project(demo_folder)
    card = project.scorecard(period="2025-Q4")
    alignment = project.alignment(period="2025-Q4", card=card)
    opps = project.engine.execute(project.table("opportunities"))
    yield project, card, alignment, opps
    project.close()


def _csv_rows(path: Path) -> int:
    """Data rows of a CSV file, counted with the csv module (not the reader under test)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def quarter(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts).dt.to_period("Q").astype(str)


def test_demo_scorecard_shows_real_statuses(demo):
    project, card, _, opps = demo
    statuses = {r.status for r in card.rows}
    assert {"green", "red"} <= statuses  # the plan makes some KPIs hit and some miss
    with_target = [r for r in card.rows if r.status in ("green", "amber", "red")]
    # targets exactly on the KPIs the departments are measured on (and the north star), from targets.csv, and on
    # the KPIs the signed agreement sets a standing target for (docs/agreements.md), from the agreement
    agreed = {t.kpi for t in project.targets().standing}
    assert agreed == {"mql_to_sql_rate", "sla_followup_compliance"}
    assert {r.kpi for r in with_target} == set(DEMO_PLAN["kpis"]) | agreed
    for r in with_target:
        assert r.target_source.startswith("agreement marketing_sales v1, " if r.kpi in agreed else "targets.csv row ")

    won = opps[opps["is_won"] & (opps["deal_type"] == "new_business")]
    revenue = won.groupby(quarter(won["closed_at"]))["amount"].sum()
    star = card.row("new_revenue")
    target = round(revenue["2024Q4"] * (1 + DEMO_PLAN["overrides"]["new_revenue"]), 2)  # the board doubles it
    assert star.actual == pytest.approx(revenue["2025Q4"], rel=1e-9)
    assert star.target == pytest.approx(target, abs=0.01)
    gap = (star.actual - star.target) / star.target
    assert star.status == ("green" if gap >= 0 else "amber" if gap >= -0.10 else "red")

    closed = opps[opps["is_closed"] & (opps["deal_type"] == "new_business")]
    q4 = quarter(closed["closed_at"]) == "2024Q4"
    rate = closed[q4]["is_won"].sum() / q4.sum()
    assert card.row("win_rate").target == pytest.approx(round(min(rate + DEMO_PLAN["points"], 1.0), 4), abs=1e-9)


def test_demo_alignment_flags_departments_winning_while_the_north_star_misses(demo):
    _, card, alignment, _ = demo
    # every green KPI under an off-target parent is flagged, and nothing else of that kind (rule restated here)
    rows = {r.kpi: r for r in card.rows if not r.dims}
    expected = {
        (c.kpi, c.parent)
        for c in rows.values()
        if c.parent in rows and c.status == "green" and rows[c.parent].status in ("amber", "red")
    }
    flagged = {f.kpis for f in alignment.findings if f.kind == "on_target_parent_off_target"}
    assert expected <= flagged
    star = card.row("new_revenue")
    # departments planned +20 %, the board ×2: in the xs demo company of seed 0 the north star misses
    # the plans do not add up. A simulator change that moves this is a reason to re-pick the seed, not the rule.
    assert star.status in ("amber", "red")
    under_star = [f for f in alignment.findings if f.kind == "on_target_parent_off_target" and f.kpis[1] == star.kpi]
    assert under_star, [f.message for f in alignment.findings]
    for f in under_star:
        child = card.row(f.kpis[0])
        assert child.status == "green" and f.values[star.kpi]["target"] == star.target
        assert f.severity == ("high" if star.status == "red" else "medium")
    green_depts = [d for d, s in card.department_status().items() if s == "green"]
    flagged_depts = {f.departments[0] for f in alignment.findings if f.kind == "department_green_north_star_off"}
    assert flagged_depts == set(green_depts)


def test_the_demo_plan_does_not_add_up_to_the_board_plan(demo):
    project = demo[0]
    drivers = ["new_leads", "lead_to_opportunity_rate", "win_rate", "average_deal_size"]  # the default tree
    plan = project.plan(2025, **{**DEMO_PLAN, "kpis": ["new_revenue", *drivers]})
    company = plan.targets.set_index(["kpi", "period"])
    for row in plan.consistency.itertuples():
        # new revenue = leads × lead→opportunity × win rate × deal size: implied growth is the product of the
        # drivers' target ÷ base ratios (recomputed from the plan's own table)
        ratio = 1.0
        for k in drivers:
            ratio *= company.loc[(k, row.period), "value"] / company.loc[(k, row.period), "base_value"]
        assert row.implied_growth == pytest.approx(ratio - 1, rel=1e-9)
        assert row.target_growth == pytest.approx(1.0, abs=1e-6)  # the board's ×2
    assert len(plan.consistency) >= 1 and not plan.consistency["consistent"].any()


def test_demo_keeps_an_edited_targets_file(demo_folder):
    project = open_project(demo_folder)
    before = (demo_folder / "targets.csv").read_text(encoding="utf-8")
    assert plan_demo_targets(project).startswith("Kept your targets.csv")
    assert (demo_folder / "targets.csv").read_text(encoding="utf-8") == before
    project.close()


def test_targets_commands(demo_folder, capsys, tmp_path):
    args = ["--project", str(demo_folder)]
    assert main(["targets", "check", *args, "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["ok"] and checked["files"] == ["targets.csv"]
    # the planned rows, and the agreement's new_revenue target for 2026-Q1 (a period target of its version 2)
    assert checked["targets"] == _csv_rows(demo_folder / "targets.csv") + 1

    # planning over an existing file needs --force; a dry run writes nothing
    assert main(["targets", "plan", "--year", "2025", *args]) == 2
    capsys.readouterr()
    argv = ["targets", "plan", "--year", "2025", "--kpi", "new_leads", "--override", "new_leads=hold", "--dry-run"]
    assert main([*argv, *args, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["written"] is None and {t["rule"] for t in plan["targets"]} == {"hold"}
    assert all(t["value"] == t["base_value"] for t in plan["targets"])

    out = tmp_path / "plan.yaml"
    argv = ["targets", "plan", "--year", "2025", "--kpi", "win_rate", "--by", "segment", "--out", str(out)]
    assert main([*argv, *args, "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["written"] == str(out) and "win_rate:" in out.read_text(encoding="utf-8")
    assert {t["segment"] for t in written["targets"]} >= {None, "smb"}

    assert main(["targets", "list", *args, "--kpi", "new_revenue", "--source", "project", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["period"] for r in listed} == {"2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"}
    assert main(["targets", "list", *args, "--source", "nowhere"]) == 2
    assert main(["targets", "plan", "--year", "2025-Q1", *args, "--dry-run"]) == 2
    assert main(["targets", "plan", "--year", "2025", *args, "--dry-run", "--override", "win_rat=0.1"]) == 6


def test_targets_check_reports_every_problem(tmp_path, capsys):
    (tmp_path / "revalign.yaml").write_text("name: t\n", encoding="utf-8")
    (tmp_path / "targets.csv").write_text(
        "kpi,period,segment,value\nwin_rat,2025-Q1,,0.3\nmarketing_spend,2025-Q1,smb,100\n", encoding="utf-8"
    )
    assert main(["targets", "check", "--project", str(tmp_path), "--json"]) == 1
    issues = json.loads(capsys.readouterr().out)["issues"]
    assert [(i["file"], i["row"], i["column"], i["rule"]) for i in issues] == [
        ("targets.csv", 1, "kpi", "kpi"),
        ("targets.csv", 2, "segment", "dimension"),
    ]
    assert main(["check", "--project", str(tmp_path), "--json"]) == 1  # a section of `revalign check` too
    (section,) = [s for s in json.loads(capsys.readouterr().out)["sections"] if s["name"] == "targets"]
    assert section["problems"] == 2 and section["rows"][0]["message"].startswith("unknown KPI 'win_rat'")
    # the scorecard still scores (a typo must not take every scorecard down) and names each ignored row
    assert main(["scorecard", "--project", str(tmp_path), "--period", "2025-Q1"]) in (0, 1)  # 1: alignment findings
    err = capsys.readouterr().err
    assert "Target ignored until fixed" in err and "targets.csv row 1" in err and "targets.csv row 2" in err
