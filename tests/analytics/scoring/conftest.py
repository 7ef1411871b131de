"""One scale-s simulated company for the scoring tests (seconds to make), on DuckDB, read-only by convention:
tests that write (``apply``) use their own engine."""

from __future__ import annotations

import datetime as dt

import pytest

from revalign.definitions.scoring import ScoringModel, default_scoring
from revalign.engine import connect
from revalign.model.access import Tables
from revalign.simulate import SimulatedCompany, simulate

END = dt.datetime(2025, 12, 31, 23, 59, 59, 999999)


@pytest.fixture(scope="session")
def company() -> SimulatedCompany:
    return simulate(scale="s", seed=3)


@pytest.fixture(scope="session")
def tables(company: SimulatedCompany) -> Tables:
    eng = connect("duckdb://:memory:")
    company.write(eng)
    return Tables(eng)


@pytest.fixture(scope="session")
def sim_model() -> ScoringModel:
    return default_scoring()[("lead_score", 1)]
