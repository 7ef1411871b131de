"""``revalign plan``, ``GET /api/v1/planner``, the planner page's HTML and ``?template=idc`` on the scorecards API, on a
project folder holding the simulated company (scale xs). The numbers are proved in tests/analytics/planner; here the
CLI, the API and the library must show the same plan, and ``--save`` must leave targets the project reads back."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from revalign.analytics.planner import RevenuePlan
from revalign.interfaces.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, app
from revalign.interfaces.server import create_app
from revalign.project import Project, init_project, open_project
from revalign.simulate import simulate

runner = CliRunner()
ARGS = ["--target", "400000", "--period", "2025-Q4", "--history-end", "2025-10-01"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan-project")
    init_project(folder, engine_url="duckdb:///revalign.duckdb")
    project = open_project(folder)
    simulate(scale="xs", seed=3).write(project.engine)
    project.close()
    return folder


@pytest.fixture(scope="module")
def expected(folder: Path) -> RevenuePlan:
    """The library's plan for the same target, period and history as ``ARGS``."""
    project = open_project(folder)
    try:
        return project.revenue_plan(400_000, "2025-Q4", history_end=dt.date(2025, 10, 1))
    finally:
        project.close()


def test_cli_plan_json_equals_the_library(folder: Path, expected: RevenuePlan) -> None:
    result = runner.invoke(app, ["plan", *ARGS, "--project", str(folder), "--json"])
    assert result.exit_code in (EXIT_OK, EXIT_FINDINGS), result.output
    payload = json.loads(result.stdout)
    assert [s["value"] for s in payload["stages"]] == list(expected.stages["value"])
    assert payload["capacity"]["reps_needed"] == expected.capacity.reps_needed
    assert (result.exit_code == EXIT_FINDINGS) == (not expected.capacity.ok)  # exit 1: quotas do not carry it
    assert payload["saved"] is None


def test_cli_plan_table_names_every_stage(folder: Path) -> None:
    result = runner.invoke(app, ["plan", *ARGS, "--project", str(folder)])
    assert result.exit_code in (EXIT_OK, EXIT_FINDINGS), result.output
    for label in ("Deals won", "SQLs", "MQLs", "Leads", "per channel", "Capacity:"):  # short: the console is 80 wide
        assert label in result.output


def test_cli_plan_save_writes_targets_the_project_reads(folder: Path, expected: RevenuePlan) -> None:
    result = runner.invoke(app, ["plan", *ARGS, "--project", str(folder), "--save", "--json"])
    assert result.exit_code in (EXIT_OK, EXIT_FINDINGS), result.output
    saved = Path(json.loads(result.stdout)["saved"])
    assert saved == folder / "targets.csv"
    project = open_project(folder)
    try:
        _book, issues = project.checked_targets()
        assert issues == [], [i.message for i in issues]
        card = project.scorecard(None, period="2025-Q4", kpis=["new_revenue", "deals_won"])
        assert card.row("new_revenue").target == 400_000
        assert card.row("deals_won").target == expected.volume("deals_won")
    finally:
        project.close()
        saved.unlink()


def test_cli_plan_rejects_a_week(folder: Path) -> None:
    result = runner.invoke(app, ["plan", "--target", "1000", "--period", "2025-W07", "--project", str(folder)])
    assert result.exit_code == EXIT_USAGE and "quarter" in result.output


@pytest.fixture(scope="module")
def client(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    project = Project(folder)
    app_ = create_app(project, state_url=f"sqlite:///{tmp_path_factory.mktemp('st') / 's.sqlite'}")
    app_.state.store.add_user("lead", "password-123", "finance")  # a pay-data role: sees the quota capacity
    app_.state.store.add_user("mkt", "password-123", "marketing")
    token = app_.state.store.create_token("lead", "tests")
    client = TestClient(app_, headers={"Authorization": f"Bearer {token}"})
    client.app.state.marketing_token = app_.state.store.create_token("mkt", "tests")
    yield client
    project.close()


def test_api_planner_shows_the_plan(client: TestClient, folder: Path) -> None:
    r = client.get("/api/v1/planner", params={"target": 400000, "period": "2025-Q4"})
    assert r.status_code == 200, r.text
    body = r.json()
    tables = {t["name"]: t for t in body["tables"]}
    assert set(tables) == {"plan", "channels", "capacity"}
    kpis = [row["kpi"] for row in tables["plan"]["rows"]]
    assert kpis == ["new_revenue", "deals_won", "opportunities_created", "sqls", "mqls", "new_leads"]
    assert body["meta"]["target"] == 400000


def test_quota_capacity_is_pay_data(client: TestClient) -> None:
    params = {"target": 400000, "period": "2025-Q4"}
    headers = {"Authorization": f"Bearer {client.app.state.marketing_token}"}
    body = client.get("/api/v1/planner", params=params, headers=headers).json()
    assert {t["name"] for t in body["tables"]} == {"plan", "channels"}
    assert any("hidden for privacy" in n for n in body["notices"])
    assert not any("Quota carried" in n for n in body["notices"])  # no quota total in a notice either


def test_api_planner_errors_are_json(client: TestClient) -> None:
    missing = client.get("/api/v1/planner", params={"period": "2025-Q4"})
    assert missing.status_code == 422 and missing.json()["ok"] is False
    week = client.get("/api/v1/planner", params={"target": 1000, "period": "2025-W07"})
    assert week.status_code in (400, 422) and "quarter" in week.json()["error"]


def test_planner_page_has_the_form_and_the_plan(client: TestClient) -> None:
    empty = client.get("/planner")
    assert empty.status_code == 200 and 'name="target"' in empty.text
    page = client.get("/planner", params={"target": 400000, "period": "2025-Q4"})
    assert page.status_code == 200 and "Reverse funnel for 400,000" in page.text


def test_api_scorecards_template_idc(client: TestClient) -> None:
    r = client.get("/api/v1/scorecards", params={"template": "idc", "period": "2025-Q3"})
    assert r.status_code == 200, r.text
    rows = {t["name"]: t for t in r.json()["tables"]}["scorecard"]["rows"]
    assert [row["section"] for row in rows] == ["investment"] * 3 + ["staff_efficiency"] * 3 + [
        "productivity_levers"
    ] * 2
    unknown = client.get("/api/v1/scorecards", params={"template": "nope"})
    assert unknown.status_code in (404, 422) and "idc" in unknown.json()["error"]
    page = client.get("/scorecards", params={"template": "idc"})
    assert page.status_code == 200 and "Customer Creation Scorecard" in page.text
