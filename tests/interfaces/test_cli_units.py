"""The CLI shows numbers in their units and periods by name, and never cuts a number at 80 columns.

A hand-made project: new-business opportunities closed in 2025-Q3 (2: 1 won for 1,000) and 2025-Q4 (8: 3 won
for 400,000 + 500,000 + 334,567 = 1,234,567). Win rate Q3 = 1/2 = 50.0 %, Q4 = 3/8 = 37.5 %, a change of
−12.5 points and −25.0 % (−0.125 / 0.5).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from revalign.interfaces.cli import app, render
from revalign.project import init_project, open_project
from tests.interfaces.server.conftest import write_canonical

runner = CliRunner()

Q3, Q4 = ["2025-08-05", "2025-09-10"], ["2025-10-02", "2025-10-20", "2025-11-03", "2025-11-17", "2025-12-01"]
CLOSED = pd.to_datetime([*Q3, *Q4, "2025-12-08", "2025-12-15", "2025-12-22"])
WON = [True, False, True, True, True, False, False, False, False, False]  # Q3: 1 of 2; Q4: 3 of 8
AMOUNT = [1000.0, 900.0, 400_000.0, 500_000.0, 334_567.0, 10.0, 20.0, 30.0, 40.0, 50.0]


@pytest.fixture(scope="module")
def project_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-units")
    init_project(folder, name="units")
    project = open_project(folder)
    n = len(CLOSED)
    opportunities = pd.DataFrame(
        {
            "opportunity_id": [f"o{i}" for i in range(n)],
            "owner_id": ["u1"] * n,
            "created_at": CLOSED - pd.Timedelta(days=30),
            "closed_at": CLOSED,
            "close_date": CLOSED,
            "amount": AMOUNT,
            "is_closed": [True] * n,
            "is_won": WON,
            "stage": ["closed_won" if w else "closed_lost" for w in WON],
            "deal_type": ["new_business"] * n,
            "segment": ["smb"] * n,
        }
    )
    write_canonical(project, "opportunities", opportunities)
    project.close()
    return folder


def test_kpi_eval_shows_percent_currency_points_and_quarter_names(project_folder):
    args = ["kpi", "eval", "win_rate", "new_revenue", "--grain", "quarter", "--start", "2025-Q3", "--end", "2025-Q4"]
    result = runner.invoke(app, [*args, "--compare", "previous_period", "--project", str(project_folder)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    q4 = next(line for line in lines if "win_rate" in line and "2025-Q4" in line)
    assert "37.5%" in q4 and "50.0%" in q4 and "−12.5 pts" in q4 and "−25.0%" in q4, q4
    revenue = next(line for line in lines if "new_revenue" in line and "2025-Q4" in line)
    assert "$1,234,567" in revenue and "$1,000" in revenue, revenue
    assert "0.375" not in result.output and "2025-10-01" not in result.output and "…" not in result.output


def test_kpi_eval_json_keeps_raw_values(project_folder):
    args = ["kpi", "eval", "win_rate", "--grain", "quarter", "--start", "2025-Q4", "--end", "2025-Q4", "--json"]
    result = runner.invoke(app, [*args, "--project", str(project_folder)])
    assert result.exit_code == 0, result.output
    assert '"value": 0.375' in result.stdout


def test_a_missing_group_is_null_in_json_and_reads_none_in_the_table(project_folder):
    # the fixture's deals have no region: one group, "(none)" to read, null to a script
    args = ["kpi", "eval", "new_revenue", "--grain", "year", "--by", "region", "--project", str(project_folder)]
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert [r["region"] for r in rows] == [None] and rows[0]["value"] == pytest.approx(
        1000 + 400_000 + 500_000 + 334_567
    )  # the won deals
    table = runner.invoke(app, args)
    assert "(none)" in table.output and "null" not in table.output


def test_a_wide_table_at_80_columns_leaves_columns_out_but_never_cuts_a_number(monkeypatch):
    screen = Console(width=80, record=True, color_system=None)
    monkeypatch.setattr(render, "console", screen)
    amounts = {f"r{i}_revenue": [123_456_789.0 + i, 3_273_456.0] for i in range(10)}  # currency by name
    frame = pd.DataFrame({"label": ["A long label that wraps", "short"], "status": ["red", "green"], **amounts})
    render.print_table(frame, title="wide")
    text = screen.export_text()
    assert "…" not in text
    table, left_out = text.split("Left out at this width:")
    shown = [c for c in amounts if c.replace("_", " ") in table]  # headings read with spaces
    assert shown and all(c in left_out.replace("\n", " ") for c in amounts if c not in shown)
    for column in shown:
        assert f"${123_456_789 + int(column[1]):,}" in table
    assert "■ red" in text and "● green" in text  # a status reads without colour too
    assert max(len(line) for line in text.splitlines()) <= 80
