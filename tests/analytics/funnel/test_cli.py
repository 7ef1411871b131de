"""``revalign funnel`` and ``revalign channels`` print the library's numbers as tables and as JSON."""

from __future__ import annotations

import json

import pytest

from revalign.interfaces.cli import EXIT_UNKNOWN, main
from revalign.project import init_project, open_project
from tests.analytics.funnel.builders import lifecycle, write


@pytest.fixture
def folder(tmp_path):
    init_project(tmp_path, engine_url="duckdb:///revalign.duckdb")
    project = open_project(tmp_path)
    write(
        project.engine,
        ledger=lifecycle("L1", ("lead", "2024-01-01"), ("mql", "2024-01-02"), ("accepted", "2024-01-03"))
        + lifecycle("L2", ("lead", "2024-01-05"), ("mql", "2024-01-06"), ("rejected", "2024-01-07")),
        leads=[{"lead_id": "L1", "lead_source": "email"}, {"lead_id": "L2", "lead_source": "events"}],
        spend=[{"date": "2024-01-01", "channel": "email", "amount": 10.0}],
    )
    project.close()
    return tmp_path


def test_funnel_json(folder, capsys):
    assert main(["funnel", "mql_handoff", "--grain", "all", "--project", str(folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    steps = {s["step"]: s for s in out["steps"]}
    assert out["funnel"] == "mql_handoff" and out["mode"] == "cohort"
    assert (steps["mql"]["converted"], steps["accepted"]["converted"], steps["accepted"]["rate_from_previous"]) == (
        2, 1, 0.5,
    )  # fmt: skip


def test_funnel_table_list_and_handoff(folder, capsys):
    assert main(["funnel", "--list", "--project", str(folder)]) == 0
    assert "lead_to_customer" in capsys.readouterr().out
    assert main(["funnel", "handoff", "--grain", "all", "--project", str(folder), "--json"]) == 0
    rows = {r["channel"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["email"]["accepted"] == 1 and rows["events"]["rejected"] == 1


def test_channels_json(folder, capsys):
    assert main(["channels", "--project", str(folder), "--json"]) == 0
    rows = {r["channel"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["email"]["leads"] == 1 and rows["email"]["cost_per_lead"] == 10.0 and rows["email"]["mqls"] == 1


def test_unknown_funnel_exit_code(folder, capsys):
    assert main(["funnel", "lead_to_custmer", "--project", str(folder)]) == EXIT_UNKNOWN
    assert "lead_to_customer" in capsys.readouterr().err
