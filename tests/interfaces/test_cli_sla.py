"""``revalign sla breaches|compliance|open`` print what the project's SLA functions compute, and a broken
agreement file is an exit with its file and line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from revalign.interfaces.cli import EXIT_OK, app, main
from revalign.project import init_project, open_project

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from revalign.simulate import simulate

    path = tmp_path_factory.mktemp("cli-sla")
    init_project(path, engine_url="duckdb:///revalign.duckdb")
    project = open_project(path)
    simulate(scale="xs", seed=1).write(project.engine)
    project.close()
    return path


def run_json(*args: str):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == EXIT_OK, result.output
    return json.loads(result.stdout)


def test_breaches_with_a_team_filter_equal_the_project(folder):
    project = open_project(folder)
    try:
        ledger = project.sla_breaches()
    finally:
        project.close()
    team = ledger["team_id"].value_counts().index[0]
    rows = run_json("sla", "breaches", "--team", team, "--project", str(folder))
    expected = ledger[ledger["team_id"] == team]
    assert [(r["sla"], r["entity_id"]) for r in rows] == list(zip(expected["sla"], expected["entity_id"], strict=True))
    assert [r["late_hours"] for r in rows] == pytest.approx(expected["late_hours"].tolist())


def test_compliance_and_open_clocks(folder):
    rows = run_json("sla", "compliance", "--grain", "all", "--project", str(folder))
    assert {r["sla"] for r in rows} == {"mql_followup", "mql_decision", "recycled_nurture"}
    for r in rows:
        decided = r["met"] + r["breached"] + r["overdue"]
        assert r["started"] == decided + r["at_risk"] + r["open"]
        assert r["compliance_rate"] == pytest.approx(r["met"] / decided)
    running = run_json("sla", "open", "--project", str(folder))
    assert {r["status"] for r in running} <= {"overdue", "at_risk", "open"}
    shares = [r["used_share"] for r in running]
    assert shares == sorted(shares, reverse=True)


def test_a_broken_agreement_is_a_config_error_naming_file_and_line(folder, tmp_path, capsys):
    (folder / "agreements").mkdir()
    try:
        (folder / "agreements" / "v1.yaml").write_text("agreement: x\nversion: 1\neffective_from: nope\n")
        code = main(["sla", "breaches", "--project", str(folder)])
        assert code != EXIT_OK
        assert "v1.yaml:3" in capsys.readouterr().err
    finally:
        (folder / "agreements" / "v1.yaml").unlink()
        (folder / "agreements").rmdir()
