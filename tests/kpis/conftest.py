"""Shared data for KPI tests, loaded once per engine, and the one call these tests make to compute KPI values.

The value tests (hand-worked cases, pandas oracles) read their data set through ``module_engine``, so each
engine (DuckDB, PostgreSQL, Spark) is checked against the expected numbers themselves, not against DuckDB.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from revalign.engine import Engine, connect
from revalign.model.tables import TABLES
from revalign.project import Project
from revalign.settings import Settings
from revalign.simulate import simulate
from tests.kpis.fixtures.tables import load_fixture


def kpi_values(
    project: Project,
    names: Sequence[str],
    *,
    grain: str,
    by: Sequence[str] = (),
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    as_of: str | dt.date | dt.datetime | None = None,
) -> pd.DataFrame:
    """KPI values as the library computes them: ``kpi, period_start, <by…>, value``.

    The only place the value tests call the KPI library, through the Project façade, so a change of the
    library's query signature is fixed here once. The result cache is bypassed: a value test must compute,
    not read what another test left, and the cache's data-version query would cost Spark a job per call.
    """
    query = project.kpi(*names).grain(grain).by(*by).period(start, end).as_of(as_of).no_cache()
    return query.to_pandas()


def with_fiscal_year(project: Project, start_month: int) -> Project:
    """``project`` (same folder and engine) with a fiscal year starting in ``start_month``."""
    if start_month == 1:
        return project
    other = Project(project.folder, engine=project.engine)
    other.settings = Settings(fiscal_year_start_month=start_month)
    return other


@pytest.fixture(scope="module")
def tiny_project_on_engine(module_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The tiny hand-made fixture (fixtures/tiny.yaml) on each engine."""
    load_fixture(module_engine)
    return Project(tmp_path_factory.mktemp("tiny"), engine=module_engine)


@pytest.fixture(scope="session")
def sim_tables() -> dict[str, pd.DataFrame]:
    """The simulator's company at scale s as pandas frames: what the oracles read."""
    company = simulate(scale="s", seed=0)
    return {name: table.to_pandas() for name, table in company.tables.items()}


def _load_sim(engine: Engine, tables: dict[str, pd.DataFrame], folder: Path) -> Project:
    for name, frame in tables.items():
        engine.write(name, frame, schema=TABLES[name].schema)
    return Project(folder, engine=engine)


@pytest.fixture(scope="session")
def sim_project(sim_tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The simulated company on DuckDB, for tests of the library's mechanics (batching, cumulative, export)."""
    return _load_sim(connect("duckdb://:memory:"), sim_tables, tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="module")
def sim_project_on_engine(
    sim_tables: dict[str, pd.DataFrame], module_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    """The same simulated company loaded into each engine, for the value tests against the oracles."""
    return _load_sim(module_engine, sim_tables, tmp_path_factory.mktemp("sim"))
