"""``revalign scorecard`` and ``revalign tree``: tables, ``--json`` and exit codes.

The commands only render what the library returns, so these tests hand them results built by the library's own
pure functions on hand-made values (tests/analytics fixtures) and check what a person and a script see. The
numbers themselves are proved in tests/analytics; the end-to-end run on the simulator is in
tests/analytics/test_driver_tree_e2e.py.
"""

from __future__ import annotations

import json
from types import SimpleNamespace as NS

import pytest
from typer.testing import CliRunner

from revalign.analytics.governance.alignment import alignment_findings
from revalign.analytics.governance.decomposition import decompose
from revalign.analytics.governance.scorecard import build_scorecard
from revalign.definitions.trees import DriverTree, parse_formula
from revalign.interfaces.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, app, main
from revalign.project import Project
from tests.analytics.test_alignment import CATALOG, VALUES

runner = CliRunner()


@pytest.fixture
def fake_project(monkeypatch):
    """Project methods return results computed by the library from hand-made values (no engine, no catalog)."""
    calls: dict[str, dict] = {}

    def scorecard(self, department=None, *, period=None, grain="quarter", by=(), trend_periods=4, kpis=None):
        calls["scorecard"] = {"department": department, "period": period, "grain": grain, "by": by}
        return build_scorecard(VALUES, CATALOG, period=period or "2025-Q2", grain=grain, department=department)

    def alignment(self, *, period=None, grain="quarter", department=None, card=None):
        calls["alignment"] = {"period": period, "card": card, "department": department}
        found = alignment_findings(build_scorecard(VALUES, CATALOG, period=period or "2025-Q2", grain=grain))
        return found.involving(department) if department else found

    def decompose_(self, root=None, *, start=None, end=None, grain="quarter", tree=None, method="shapley", where=None):
        calls["decompose"] = {"root": root, "start": start, "end": end, "method": method, "where": where}
        t = DriverTree("revenue", "new_revenue", {"new_revenue": parse_formula("new_leads * win_rate * deal")})
        meta = {
            "new_revenue": NS(label="New revenue", department="sales", unit="currency"),
            "new_leads": NS(label="New leads", department="marketing", unit="count"),
            "win_rate": NS(label="Win rate", department="sales", unit="percent"),
            "deal": NS(label="Deal size", department="sales", unit="currency"),
        }
        before = {"new_revenue": 100_000, "new_leads": 100, "win_rate": 0.25, "deal": 4000}
        after = {"new_revenue": 88_000, "new_leads": 90, "win_rate": 0.25, "deal": 4000}
        return decompose(t, before, after, kpis=meta, method=method, period_from="2025-Q1", period_to="2025-Q2")

    monkeypatch.setattr(Project, "scorecard", scorecard)
    monkeypatch.setattr(Project, "alignment", alignment)
    monkeypatch.setattr(Project, "decompose", decompose_)
    return calls


def test_scorecard_table_and_exit_code_on_findings(fake_project, tmp_path):
    result = runner.invoke(app, ["scorecard", "--project", str(tmp_path), "--period", "2025-Q2"])
    assert result.exit_code == EXIT_FINDINGS, result.output
    assert "Joint scorecard, 2025-Q2" in result.output
    assert "department_green_north_star_off" in result.output
    assert "marketing is on target in 2025-Q2" in result.output
    assert fake_project["scorecard"]["period"] == "2025-Q2"
    assert fake_project["alignment"]["card"] is not None  # the joint card is reused, not rebuilt


def test_scorecard_json_for_scripts(fake_project, tmp_path):
    result = runner.invoke(app, ["scorecard", "--project", str(tmp_path), "--department", "marketing", "--json"])
    assert result.exit_code == EXIT_FINDINGS
    payload = json.loads(result.stdout)
    rows = {r["kpi"]: r for r in payload["scorecard"]["rows"]}
    assert set(rows) == {"new_revenue", "new_leads", "mqls"}  # marketing's KPIs plus the north star
    assert rows["new_leads"]["actual"] == 1150 and rows["new_leads"]["status"] == "green"
    assert rows["new_revenue"]["status"] == "red"
    assert payload["alignment"]["ok"] is False
    assert all("marketing" in f["departments"] for f in payload["alignment"]["findings"])
    assert fake_project["alignment"] == {"period": "2025-Q2", "card": None, "department": "marketing"}


def test_scorecard_department_without_findings_exits_ok(fake_project, tmp_path):
    result = runner.invoke(app, ["scorecard", "--project", str(tmp_path), "--department", "customer_success"])
    assert result.exit_code == EXIT_OK, result.output
    assert "Aligned" in result.output


def test_scorecard_bad_period_is_a_usage_error(fake_project, tmp_path):
    code = main(["scorecard", "--project", str(tmp_path), "--period", "2025-04"])  # a month at quarter grain
    assert code == EXIT_USAGE


def test_tree_prints_the_leader_sentence_and_the_tree(fake_project, tmp_path):
    result = runner.invoke(app, ["tree", "--project", str(tmp_path), "--from", "2025-Q1", "--to", "2025-Q2"])
    assert result.exit_code == EXIT_OK, result.output
    # 100·0.25·4000 = 100,000 → 90·0.25·4000 = 90,000; measured 88,000 → residual −2 pp
    assert "New revenue −12.0%: New leads −10.0 pts (marketing)" in result.output
    assert "residual (timing/mix) −2.0" in result.output
    text = " ".join(result.output.split())  # Rich folds long lines at the terminal width
    assert "they add up to −$12,000" in text  # in the KPI's unit, as everywhere (revalign.display)
    assert "New revenue: $100,000 → $88,000 contribution −12.0 pts" in text
    assert fake_project["decompose"]["start"] == "2025-Q1"


def test_tree_json(fake_project, tmp_path):
    result = runner.invoke(app, ["tree", "--project", str(tmp_path), "--json", "--method", "lmdi"])
    assert result.exit_code == EXIT_OK
    payload = json.loads(result.stdout)
    assert payload["change"] == -12_000 and payload["method"] == "lmdi"
    leaves = [r for r in payload["rows"] if r["is_leaf"]]
    assert sum(r["contribution"] for r in leaves) == pytest.approx(-12_000, abs=1e-9)
    assert payload["summary"].startswith("New revenue −12.0%")


def test_tree_rejects_an_unknown_method(fake_project, tmp_path):
    assert main(["tree", "--project", str(tmp_path), "--method", "ols"]) == EXIT_USAGE


# ------------------------------------------------------------------------------- end to end on a project folder


@pytest.fixture(scope="module")
def sim_folder(tmp_path_factory):
    """A project folder whose DuckDB file holds the scale-s simulated company."""
    from revalign.project import init_project, open_project
    from revalign.simulate import simulate

    folder = tmp_path_factory.mktemp("cli-project")
    init_project(folder, engine_url="duckdb:///revalign.duckdb")
    project = open_project(folder)
    simulate(scale="s", seed=0).write(project.engine)
    raw = project.engine.execute(project.table("opportunities"))
    project.close()
    return folder, raw


def test_tree_json_on_a_project_adds_up_to_the_raw_change(sim_folder):
    folder, opps = sim_folder
    result = runner.invoke(app, ["tree", "--project", str(folder), "--from", "2025-Q2", "--to", "2025-Q3", "--json"])
    assert result.exit_code == EXIT_OK, result.output
    payload = json.loads(result.stdout)
    won = opps[opps["is_won"] & (opps["deal_type"] == "new_business")]
    by_quarter = won.groupby(won["closed_at"].dt.to_period("Q").astype(str))["amount"].sum()
    measured = by_quarter["2025Q3"] - by_quarter["2025Q2"]
    assert payload["change"] == pytest.approx(measured, rel=1e-12)
    leaves = [r["contribution"] for r in payload["rows"] if r["is_leaf"]]
    assert sum(leaves) == pytest.approx(measured, rel=1e-9)
    assert {r["kpi"] for r in payload["rows"]} >= {"new_leads", "lead_to_opportunity_rate", "win_rate"}

    table = runner.invoke(app, ["tree", "--project", str(folder), "--from", "2025-Q2", "--to", "2025-Q3"])
    assert table.exit_code == EXIT_OK
    text = " ".join(table.output.split())  # Rich wraps long lines at the test terminal's width
    assert payload["summary"].split(":")[0] in text and "residual (timing/mix)" in text


def test_scorecard_json_on_a_project(sim_folder):
    folder, _ = sim_folder
    result = runner.invoke(app, ["scorecard", "--project", str(folder), "--department", "finance", "--json"])
    assert result.exit_code in (EXIT_OK, EXIT_FINDINGS), result.output
    payload = json.loads(result.stdout)
    card = payload["scorecard"]
    assert card["department"] == "finance" and card["grain"] == "quarter"
    assert card["rows"][0]["kpi"] == "new_revenue"
    assert (result.exit_code == EXIT_FINDINGS) == (not payload["alignment"]["ok"])
    unknown = main(["scorecard", "--project", str(folder), "--department", "finanse"])
    assert unknown == 6  # unknown name, with a suggestion on stderr


def test_project_trees_are_listed_and_validated_against_the_catalog(tmp_path, capsys):
    trees = tmp_path / "trees"
    trees.mkdir()
    (trees / "pipeline.yaml").write_text(
        "tree:\n  name: pipeline\n  root: new_revenue\n  nodes:\n"
        "    new_revenue: opportunities_created * win_rate * average_deal_size\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["tree", "--project", str(tmp_path), "--list", "--json"])
    assert result.exit_code == EXIT_OK, result.output
    listed = {t["name"]: t for t in json.loads(result.stdout)}
    assert {"revenue", "ltv_cac", "pipeline"} <= set(listed)
    assert listed["pipeline"]["source"] == str(trees / "pipeline.yaml")

    (trees / "bad.yaml").write_text(
        "tree:\n  name: bad\n  root: new_revenue\n  nodes:\n    new_revenue: new_leads * win_rat\n", encoding="utf-8"
    )
    code = main(["tree", "--project", str(tmp_path), "--list"])
    assert code == 5  # configuration error: the catalog (here, a driver tree) is invalid
    err = " ".join(capsys.readouterr().err.split())
    assert f"{trees / 'bad.yaml'}:5" in err and "Did you mean 'win_rate'" in err
