"""The same findings on DuckDB, PostgreSQL and Spark: every detector over one small simulated company (xs).

The reference is the findings on a separate in-memory DuckDB; every engine must give the same rows, ids and
values (floats to the cent, times to the microsecond), so a reviewer's decision keyed on ``finding_id`` holds
whatever the engine.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.audit.detect import DETECTORS, detect
from revalign.engine import Engine, connect
from revalign.model.access import Tables
from revalign.simulate import SimulatedCompany, simulate


@pytest.fixture(scope="module")
def company() -> SimulatedCompany:
    return simulate(scale="xs", seed=1)


@pytest.fixture(scope="module")
def reference(company: SimulatedCompany) -> pd.DataFrame:
    engine = connect("duckdb://:memory:")
    try:
        company.write(engine)
        return detect(Tables(engine))
    finally:
        engine.close()


def test_same_findings_on_every_engine(module_engine: Engine, company: SimulatedCompany, reference) -> None:
    company.write(module_engine)
    found = detect(Tables(module_engine))
    assert set(reference["kind"]) == set(DETECTORS)  # every detector has something to find at xs
    pd.testing.assert_frame_equal(found, reference, check_exact=False, atol=0.005)
