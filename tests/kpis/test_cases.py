"""Hand-computed KPI cases (cases/*.yaml) on the tiny fixture: the arithmetic is in the YAML comments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from revalign.kpis import evaluate
from revalign.project import Project
from revalign.settings import Settings
from tests.kpis.fixtures.tables import load_fixture

CASES = [
    c for f in sorted((Path(__file__).parent / "cases").glob("*.yaml")) for c in yaml.safe_load(f.read_text())["cases"]
]


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    from revalign.engine import connect

    engine = connect("duckdb://:memory:")
    load_fixture(engine)
    return Project(tmp_path_factory.mktemp("tiny"), engine=engine)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict, tiny_project: Project) -> None:
    project = tiny_project
    fs = case.get("fiscal_year_start_month", 1)
    if fs != 1:
        project = Project(tiny_project.folder, engine=tiny_project.engine)
        project.settings = Settings(fiscal_year_start_month=fs)
    by = tuple(case.get("by", ()))
    got = evaluate(
        project.tables,
        project.catalog,
        [case["kpi"]],
        grain=case["grain"],
        by=by,
        as_of=case.get("as_of"),
        start=case.get("start"),
        end=case.get("end"),
        fiscal_year_start_month=project.settings.fiscal_year_start_month,
    )
    expected = pd.DataFrame(case["expected"])
    expected["period_start"] = [dt.date.fromisoformat(str(d)) for d in expected["period_start"]]
    for d in by:
        expected[d] = expected[d].astype(str)
    expected = expected.sort_values(["period_start", *by]).reset_index(drop=True)
    got = got.drop(columns="kpi").sort_values(["period_start", *by]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected[got.columns.tolist()], check_dtype=False, rtol=1e-9)
