"""Invariants of KPI arithmetic, on random data (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revalign.engine import connect
from revalign.kpis import evaluate
from revalign.model.tables import TABLES
from revalign.project import Project

deal = st.tuples(
    st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 31)),
    st.booleans(),
    st.sampled_from(["smb", "mid_market", "enterprise"]),
    st.integers(0, 30),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("prop"), engine=connect("duckdb://:memory:"))


def _load(project: Project, deals: list[tuple]) -> None:
    rows = [
        {
            "opportunity_id": f"o{i}",
            "created_at": pd.Timestamp(day) - pd.Timedelta(days=cycle),
            "closed_at": pd.Timestamp(day) + pd.Timedelta(hours=12),
            "close_date": day,
            "is_closed": True,
            "is_won": won,
            "stage": "closed_won" if won else "closed_lost",
            "amount": 1000.0 * (i + 1),
            "deal_type": "new_business",
            "segment": segment,
        }
        for i, (day, won, segment, cycle) in enumerate(deals)
    ]
    frame = pd.DataFrame(rows, columns=TABLES["opportunities"].column_names)
    project.engine.write("opportunities", frame, schema=TABLES["opportunities"].schema)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(deal, min_size=1, max_size=25))
def test_ratio_at_coarse_grain_is_ratio_of_sums(project: Project, deals: list[tuple]) -> None:
    _load(project, deals)
    monthly = evaluate(
        project.tables, project.catalog, ["deals_won", "opportunities_closed"], grain="month", by=("segment",)
    )
    quarterly = evaluate(project.tables, project.catalog, ["win_rate"], grain="quarter", by=("segment",))
    m = monthly.pivot_table(index=["period_start", "segment"], columns="kpi", values="value", fill_value=0)
    m = m.reindex(columns=["deals_won", "opportunities_closed"], fill_value=0).reset_index()
    m["quarter"] = [dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1) for d in m.period_start]
    sums = m.groupby(["quarter", "segment"])[["deals_won", "opportunities_closed"]].sum()
    expected = (sums.deals_won / sums.opportunities_closed).rename("value").reset_index()
    got = quarterly.rename(columns={"period_start": "quarter"})
    merged = got.merge(expected, on=["quarter", "segment"], how="outer")
    assert merged.value_x.tolist() == pytest.approx(merged.value_y.tolist())
    assert quarterly.value.between(0, 1).all()
