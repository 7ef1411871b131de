"""``revalign forecast`` and ``revalign waterfall`` print what the project computes, and a bad split is an exit
with a message that names the known ones."""

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

    path = tmp_path_factory.mktemp("cli-forecast")
    init_project(path, engine_url="duckdb:///revalign.duckdb")
    project = open_project(path)
    simulate(scale="xs", seed=1).write(project.engine)
    project.close()
    return path


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == EXIT_OK, result.output
    return result.stdout


def test_forecast_json_is_the_library_landing(folder):
    body = json.loads(run("forecast", "--as-of", "2025-08-20", "--by", "segment", "--json", "--project", str(folder)))
    project = open_project(folder)
    try:
        land = project.quarter_landing("2025-08-20", by=["segment"])
    finally:
        project.close()
    assert body["quarter"] == "2025-Q3"
    assert [r["segment"] for r in body["rows"]] == list(land.frame["segment"])
    assert [r["landing"] for r in body["rows"]] == pytest.approx(list(land.frame["landing"]))


def test_forecast_table_shows_money_as_money(folder):
    out = run("forecast", "--as-of", "2025-08-20", "--project", str(folder))
    assert "2025-Q3 landing as of 2025-08-20" in out and "$" in out


def test_waterfall_reconciles_in_json(folder):
    args = ("waterfall", "--start", "2025-07-07", "--end", "2025-08-04", "--json", "--project", str(folder))
    rows = json.loads(run(*args))["rows"]
    assert len(rows) == 4
    for r in rows:
        assert r["opening"] + r["created"] + r["amount_changed"] - r["won"] - r["lost"] == pytest.approx(r["closing"])


def test_an_unknown_split_names_the_known_ones(folder, capsys):
    code = main(["waterfall", "--by", "region", "--project", str(folder)])
    assert code != EXIT_OK
    err = capsys.readouterr().err
    assert "Unknown pipeline dimension 'region'" in err and "channel" in err
