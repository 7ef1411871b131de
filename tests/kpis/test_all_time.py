"""The all-time grain: one value over every date (or over a period), checked against plain pandas on the
simulated company; KPIs with no all-time meaning (snapshots, rolling windows) and comparisons are refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from revalign.engine import connect
from revalign.errors import CatalogError
from revalign.model.calendar import ALL_TIME, period_label
from revalign.model.tables import TABLES
from revalign.project import Project


def _one(project: Project, name: str, **period: str) -> float:
    q = project.kpi(name).grain("all").no_cache()
    if period:
        q = q.period(period.get("start"), period.get("end"))
    frame = q.to_pandas()
    assert frame["period_start"].tolist() == [ALL_TIME]
    return float(frame["value"].iloc[0])


def _won_nb(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = tables["opportunities"]
    return o[o["is_won"].astype(bool) & (o["deal_type"] == "new_business")]


def test_counts_and_ratios_over_all_time(sim_project: Project, sim_tables: dict[str, pd.DataFrame]) -> None:
    leads = sim_tables["leads"]
    assert _one(sim_project, "new_leads") == leads["created_at"].notna().sum()
    o = sim_tables["opportunities"]
    closed = o[o["is_closed"].astype(bool) & (o["deal_type"] == "new_business") & o["closed_at"].notna()]
    won = closed[closed["is_won"].astype(bool)]
    assert _one(sim_project, "win_rate") == pytest.approx(len(won) / len(closed))
    assert _one(sim_project, "average_deal_size") == pytest.approx(won["amount"].mean())


def test_a_period_keeps_the_rows_inside_it(sim_project: Project, sim_tables: dict[str, pd.DataFrame]) -> None:
    won = _won_nb(sim_tables)
    closed_at = pd.to_datetime(won["closed_at"])
    inside = won[(closed_at >= "2025-02-01") & (closed_at < "2025-08-01")]
    got = _one(sim_project, "deals_won", start="2025-02", end="2025-07")
    assert got == len(inside)


def test_a_revised_sum_adds_each_definition_over_its_own_dates(
    sim_tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    # new_revenue counted won renewals before 2024-07-01: one such renewal (and one after) is added by hand
    o = sim_tables["opportunities"]
    extra = _won_nb(sim_tables).iloc[:2].copy()
    extra["opportunity_id"] = ["RENEW-EARLY", "RENEW-LATE"]
    extra["deal_type"] = "renewal"
    extra["amount"] = [1_000.0, 2_000.0]
    extra["closed_at"] = pd.to_datetime(["2024-03-15", "2024-09-15"])
    extra["created_at"] = pd.to_datetime(["2024-02-01", "2024-08-01"])
    engine = connect("duckdb://:memory:")
    for name, frame in {**sim_tables, "opportunities": pd.concat([o, extra], ignore_index=True)}.items():
        engine.write(name, frame, schema=TABLES[name].schema)
    project = Project(tmp_path, engine=engine)
    won = _won_nb(sim_tables)["amount"].sum()
    assert _one(project, "new_revenue") == pytest.approx(won + 1_000.0)  # the early renewal counts, the late not
    months = project.kpi("new_revenue").grain("month").no_cache().to_pandas()
    assert _one(project, "new_revenue") == pytest.approx(months["value"].sum())
    current = project.kpi("new_revenue").grain("all").definitions("current").no_cache().to_pandas()
    assert current["value"].iloc[0] == pytest.approx(won)


def test_point_in_time_kpis_and_comparisons_are_refused(sim_project: Project) -> None:
    with pytest.raises(CatalogError, match="snapshot KPI"):
        sim_project.kpi("active_customers").grain("all").no_cache().to_pandas()
    with pytest.raises(CatalogError, match="cumulative KPI"):
        sim_project.kpi("new_revenue_ttm").grain("all").no_cache().to_pandas()
    with pytest.raises(ValueError, match="no previous period"):
        sim_project.kpi("new_leads").grain("all").compare("previous_period")


def test_the_period_reads_all_time() -> None:
    assert period_label(ALL_TIME, "all") == "all time"
    assert dt.date(1970, 1, 1) > ALL_TIME
