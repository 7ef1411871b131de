"""Pay privacy of statements and payouts: the access matrix, through the façade (which takes the viewer) and the CLI.

The hand-made company (hand.py): A1, A2 and S1 report to M1, who reports to C1. A statement is visible to the
person, to everyone above them in the team tree, and to the finance, RevOps and admin roles; to no one else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from revalign.analytics.incentives.payout import visible_payouts
from revalign.analytics.privacy import Viewer
from revalign.engine import connect
from revalign.interfaces.cli import EXIT_OK, main
from revalign.interfaces.server.state import StateStore, default_state_url
from revalign.project import Project, init_project
from revalign.settings import PROJECT_FILE
from tests.analytics.incentives.hand import PLAN_YAML, write_company

EVERYONE = {"A1", "A2", "S1", "M1"}
MATRIX = [
    # viewer (user_id, role) → whose statements they see
    (("A1", "sales"), {"A1"}),
    (("A2", "sales"), {"A2"}),
    (("S1", "marketing"), {"S1"}),
    (("M1", "sales"), EVERYONE),  # their reports and themselves
    (("C1", "viewer"), EVERYONE),  # reports of reports
    ((None, "finance"), EVERYONE),
    ((None, "revops"), EVERYONE),
    ((None, "admin"), EVERYONE),
    ((None, "sales"), set()),  # a login linked to no one
    (("A1", "finance"), EVERYONE),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("comp")
    init_project(path, name="comp privacy")
    (path / "comp_plans").mkdir()
    (path / "comp_plans" / "team_plan.yaml").write_text(PLAN_YAML, encoding="utf-8")
    assert (path / PROJECT_FILE).exists()
    project = Project(path)
    write_company(project.engine)
    project.close()
    store = StateStore(default_state_url(path))
    store.migrate()
    store.add_user("ann", "password-123", "sales", owner_id="A1")
    store.add_user("max", "password-123", "sales", owner_id="M1")
    store.close()
    return path


@pytest.fixture(scope="module")
def project(folder: Path):
    p = Project(folder)
    yield p
    p.close()


@pytest.fixture(scope="module")
def everyone(project):
    return project.comp_payouts(viewer=None)


@pytest.mark.parametrize(("who", "sees"), MATRIX, ids=[f"{u}-{r}" for (u, r), _ in MATRIX])
def test_statements_are_visible_only_where_the_privacy_rule_allows(project, everyone, who, sees):
    user_id, role = who
    result = visible_payouts(everyone, project.tables, Viewer(user_id=user_id, roles=frozenset({role})))
    assert set(result.totals["user_id"]) == sees
    assert set(result.statements["user_id"]) == sees
    assert result.hidden == len(everyone.totals) - len(result.totals)


def test_the_facade_takes_the_viewer(project, everyone):
    mine = project.comp_payouts(viewer=Viewer(user_id="S1", roles=frozenset({"marketing"})))
    assert set(mine.totals["user_id"]) == {"S1"}
    theirs = everyone.totals[everyone.totals["user_id"] == "S1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine.totals.reset_index(drop=True), theirs)


def test_the_cli_shows_a_login_only_its_own_and_its_reports_statements(folder, capsys):
    code = main(["comp", "payout", "--user", "ann", "--json", "--project", str(folder)])
    body = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and {r["user_id"] for r in body["totals"]} == {"A1"} and body["hidden"] > 0
    code = main(["comp", "payout", "--user", "max", "--json", "--project", str(folder)])
    body = json.loads(capsys.readouterr().out)
    assert {r["user_id"] for r in body["totals"]} == EVERYONE and body["hidden"] == 0


def test_the_cli_statement_and_check(folder, capsys):
    code = main(["comp", "payout", "--person", "A1", "--period", "2025-Q2", "--project", str(folder)])
    out = capsys.readouterr().out
    assert code == EXIT_OK and "tier 3" in out and "$9,800" in out  # the hand-worked payout (test_payout.py)
    code = main(["comp", "check", "--json", "--project", str(folder)])
    body = json.loads(capsys.readouterr().out)
    assert code == 1  # the plan credits sales-sourced deals × 1.25: flagged
    flagged = {a["action"] for a in body["actions"] if a["flagged"]}
    assert "relabel_self_sourced" in flagged and "sandbag_forecast" not in flagged


def test_an_unknown_engine_project_has_the_example_plan(tmp_path: Path):
    project = Project(tmp_path, engine=connect("duckdb://:memory:"))
    plan = project.comp_plan()
    assert plan.name == "ae_plan" and plan.credit.multiplier("sales") > 1
    project.close()
