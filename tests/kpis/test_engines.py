"""The whole default catalog gives the same values on DuckDB, PostgreSQL and Spark (one test, month grain)."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.engine import Engine, connect
from revalign.kpis import default_catalog, evaluate
from revalign.project import Project
from tests.kpis.fixtures.tables import load_fixture

NAMES = sorted(default_catalog().kpis)


@pytest.fixture(scope="module")
def duckdb_values(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    engine = connect("duckdb://:memory:")
    load_fixture(engine)
    project = Project(tmp_path_factory.mktemp("d"), engine=engine)
    return evaluate(
        project.tables,
        project.catalog,
        NAMES,
        grain="month",
        by=("segment",),
        skip_unreachable=True,
    )


def test_whole_catalog_same_on_every_engine(
    engine: Engine, duckdb_values: pd.DataFrame, tmp_path: pytest.TempPathFactory
) -> None:
    load_fixture(engine)
    project = Project(tmp_path, engine=engine)
    got = evaluate(project.tables, project.catalog, NAMES, grain="month", by=("segment",), skip_unreachable=True)
    assert set(got.kpi) == set(duckdb_values.kpi)
    pd.testing.assert_frame_equal(
        got.sort_values(["kpi", "period_start", "segment"]).reset_index(drop=True),
        duckdb_values.sort_values(["kpi", "period_start", "segment"]).reset_index(drop=True),
        check_exact=False,
        rtol=1e-9,
    )
