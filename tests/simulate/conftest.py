"""One scale-s company per test session, shared by every simulator test (generating it takes a few seconds)."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.simulate import SimulatedCompany, simulate


@pytest.fixture(scope="session")
def company() -> SimulatedCompany:
    return simulate(scale="s", seed=0)


@pytest.fixture(scope="session")
def frames(company: SimulatedCompany) -> dict[str, pd.DataFrame]:
    """Every table as pandas, for reference computations written independently of the generator."""
    return {name: t.to_pandas() for name, t in company.tables.items()}


@pytest.fixture(scope="session")
def truth_leads(company: SimulatedCompany) -> pd.DataFrame:
    return company.truth.leads.to_pandas()


@pytest.fixture(scope="session")
def labels(company: SimulatedCompany) -> pd.DataFrame:
    return company.truth.labels.to_pandas()
