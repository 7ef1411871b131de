"""The simulated company, its Fivetran Salesforce tables and the file path's load, once for the package."""

from __future__ import annotations

import pyarrow as pa
import pytest
from tests.sources.warehouse.salesforce import salesforce_tables

from revalign.engine import Engine, connect
from revalign.simulate import SimulatedCompany, simulate
from revalign.sources import ingest


@pytest.fixture(scope="package")
def company() -> SimulatedCompany:
    return simulate(scale="s", seed=0)


@pytest.fixture(scope="package")
def tables(company) -> dict[str, pa.Table]:
    return salesforce_tables(company)


@pytest.fixture(scope="package")
def file_path(company, tmp_path_factory) -> Engine:
    """The file path: the simulator's canonical tables as Parquet, loaded with the canonical mapping."""
    folder = tmp_path_factory.mktemp("canonical")
    company.to_parquet(folder)
    engine = connect("duckdb://:memory:")
    ingest(engine, folder, "canonical")
    return engine
