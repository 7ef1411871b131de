"""Every default KPI against an independent pandas computation (tests/reference/kpis.py) on simulated data.

Each engine's values are compared with the oracle directly. All default KPIs run in one query per engine
(``monthly``), so Spark's per-query start-up is paid once rather than once per KPI.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from revalign.kpis import default_catalog
from revalign.project import Project
from tests.kpis.conftest import kpi_values
from tests.reference.kpis import REFERENCE

NAMES = sorted(default_catalog().kpis)


@pytest.fixture(scope="module")
def monthly(sim_project_on_engine: Project) -> pd.DataFrame:
    return kpi_values(sim_project_on_engine, NAMES, grain="month")


def test_every_default_kpi_has_a_reference() -> None:
    assert set(REFERENCE) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_kpi_matches_reference(name: str, monthly: pd.DataFrame, sim_tables: dict) -> None:
    got = monthly[monthly.kpi == name].set_index("period_start")["value"].sort_index()
    expected = REFERENCE[name](sim_tables).sort_index().astype(float)
    assert len(expected) > 0, f"{name}: the simulator produced no data for it"
    assert list(got.index) == list(expected.index), f"{name}: periods differ"
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9, err_msg=name)


def test_proportions_never_exceed_one(monthly: pd.DataFrame) -> None:
    cat = default_catalog()
    for name in NAMES:
        kpi = cat.get(name)
        if kpi.unit == "percent" and kpi.value_range == (0.0, 1.0):
            values = monthly.loc[monthly.kpi == name, "value"]
            assert values.between(0, 1).all(), name


@pytest.mark.parametrize("dim", ["segment", "channel", "team"])
def test_win_rate_by_dimension_at_quarter(sim_project_on_engine: Project, sim_tables: dict, dim: str) -> None:
    """Win rate by quarter and dimension = sum(won)/sum(closed) per slice (team via owner → users.team_id)."""
    got = kpi_values(sim_project_on_engine, ["win_rate"], grain="quarter", by=[dim])
    o = sim_tables["opportunities"].copy()
    o = o[o.is_closed.astype(bool) & (o.deal_type == "new_business")]
    if dim == "team":
        o = o.merge(sim_tables["users"][["user_id", "team_id"]], left_on="owner_id", right_on="user_id", how="left")
        o["team"] = o.team_id
    elif dim == "channel":
        o["channel"] = o.lead_source
    o[dim] = o[dim].fillna("(none)").astype(str)
    ts = pd.to_datetime(o.closed_at)
    o["period_start"] = [dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1) for d in ts]
    g = o.groupby(["period_start", dim]).agg(won=("is_won", "sum"), closed=("is_won", "size")).reset_index()
    g["value"] = g.won / g.closed
    merged = got.merge(g, on=["period_start", dim], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged.value_x, merged.value_y, rtol=1e-12)
