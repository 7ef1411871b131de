"""Every default KPI by every dimension it reaches against the vectorised pandas catalog (bench/pandas_catalog.py).

The pandas catalog is the by-dimension baseline of the catalog refresh benchmark; here it is also an oracle for
revalign by slice: it attaches each dimension to the rows from the semantic models as read by hand (a touchpoint's
own channel, an opportunity's campaign through its lead, a quota's region through its owner's team, a
subscription's segment through its account), not through revalign's join planner. Its company-level values are
checked against the plain references (tests/reference/kpis.py), so the two pandas implementations agree too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bench.pandas_catalog import CATALOG, DIMENSIONS, NONE, Result, pandas_catalog_sliced, reach

from revalign.kpis import default_catalog
from revalign.project import Project
from tests.kpis.conftest import kpi_values
from tests.reference.kpis import REFERENCE

pytestmark = pytest.mark.slow

NAMES = sorted(default_catalog().kpis)
EMPTY = {("sales_enablement_score", "channel")}
"""Slices with no value on the simulated company: sales spend has no channel, opportunities always have one."""


@pytest.fixture(scope="module")
def sliced(sim_tables: dict[str, pd.DataFrame]) -> Result:
    return pandas_catalog_sliced(sim_tables)


def test_baseline_covers_the_default_catalog() -> None:
    assert set(CATALOG) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_reach_matches_the_semantic_models(name: str) -> None:
    """The dimensions the baseline slices a KPI by are those revalign's semantic graph says it reaches."""
    assert reach(name) == set(default_catalog().dimensions_of(name)) & set(DIMENSIONS)


@pytest.mark.parametrize("name", NAMES)
def test_company_values_match_the_plain_reference(name: str, sliced: Result, sim_tables: dict) -> None:
    got = sliced[(name, None)].sort_index()
    expected = REFERENCE[name](sim_tables).sort_index().astype(float)
    assert len(expected) > 0
    assert [d.date() for d in got.index] == list(expected.index), name
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=name)


def _revalign(frame: pd.DataFrame, dim: str) -> pd.Series:
    months = pd.to_datetime(frame["period_start"])
    slices = frame[dim].astype(object).where(frame[dim].notna(), NONE).astype(str)
    return pd.Series(frame["value"].to_numpy(), index=pd.MultiIndex.from_arrays([months, slices])).sort_index()


def _pandas(values: pd.Series) -> pd.Series:
    index = pd.MultiIndex.from_arrays([values.index.get_level_values(0), values.index.get_level_values(1).astype(str)])
    return pd.Series(values.to_numpy(), index=index).sort_index()


@pytest.mark.parametrize("dim", DIMENSIONS)
def test_sliced_values_match_revalign(dim: str, sliced: Result, sim_project: Project) -> None:
    """Same (month, slice) keys and values for every KPI that reaches ``dim``; lists every KPI that differs."""
    names = [n for n in NAMES if dim in reach(n)]
    frame = kpi_values(sim_project, names, grain="month", by=[dim])
    problems = []
    for name in names:
        got, expected = _revalign(frame[frame.kpi == name], dim), _pandas(sliced[(name, dim)])
        if (name, dim) not in EMPTY and len(expected) == 0:
            problems.append(f"{name}: no values")
        if not got.index.equals(expected.index):
            only = got.index.symmetric_difference(expected.index)
            problems.append(f"{name}: {len(only)} keys in one side only, e.g. {list(only[:3])}")
        elif not np.allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9):
            bad = ~np.isclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9)
            problems.append(f"{name}: {bad.sum()} values differ, e.g. {got[bad].head(2).to_dict()}")
    assert not problems, "\n".join(problems)
