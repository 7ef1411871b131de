"""Shared data for KPI tests: the simulator's company at scale s, loaded once per session."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.engine import connect
from revalign.project import Project


@pytest.fixture(scope="session")
def sim_tables() -> dict[str, pd.DataFrame]:
    from revalign.simulate import simulate

    company = simulate(scale="s", seed=0)
    return {name: (t.to_pandas() if hasattr(t, "to_pandas") else t) for name, t in company.tables.items()}


@pytest.fixture(scope="session")
def sim_project(sim_tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Project:
    from revalign.model.tables import TABLES

    engine = connect("duckdb://:memory:")
    for name, frame in sim_tables.items():
        engine.write(name, frame, schema=TABLES[name].schema)
    return Project(tmp_path_factory.mktemp("sim"), engine=engine)
