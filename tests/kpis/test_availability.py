"""Undefined is not zero: a KPI whose table was never loaded has no value (with the reason), and a column that
KPIs read but that is empty in every row is a `revalign check` problem naming the table, column and KPIs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from revalign.checks import inputs_check
from revalign.engine import connect
from revalign.model.tables import TABLES
from revalign.project import Project

SPEND_KPIS = ("cac", "cost_per_lead", "marketing_spend", "ltv_to_cac")


def _project(tables: dict[str, pd.DataFrame], folder: Path) -> Project:
    engine = connect("duckdb://:memory:")
    for name, frame in tables.items():
        engine.write(name, frame, schema=TABLES[name].schema)
    return Project(folder, engine=engine)


@pytest.fixture(scope="module")
def no_spend(sim_tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _project({k: v for k, v in sim_tables.items() if k != "spend"}, tmp_path_factory.mktemp("nospend"))


def test_spend_kpis_have_no_value_without_spend(no_spend: Project, sim_project: Project) -> None:
    q = no_spend.kpi(*SPEND_KPIS, "new_revenue").grain("quarter").no_cache()
    frame = q.to_pandas()
    # with no spend loaded, CAC used to read 0 (spend filled with zero); now it has no rows at all
    assert set(frame["kpi"]) == {"new_revenue"}
    reasons = q.unavailable()
    assert sorted(reasons) == sorted(SPEND_KPIS)
    assert all("spend" in why for why in reasons.values())
    # the KPIs that do not read spend are untouched
    full = sim_project.kpi("new_revenue").grain("quarter").no_cache().to_pandas()
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), full.reset_index(drop=True))


def test_spend_kpis_have_values_with_spend(sim_project: Project, sim_tables: dict[str, pd.DataFrame]) -> None:
    q = sim_project.kpi("marketing_spend").grain("year").no_cache()
    assert q.unavailable() == {}
    got = q.to_pandas().set_index("period_start")["value"]
    spend = sim_tables["spend"]
    spend = spend[spend["department"] == "marketing"]
    expected = spend.groupby(pd.to_datetime(spend["date"]).dt.year)["amount"].sum()
    assert got.sum() == pytest.approx(expected[expected.index.isin([p.year for p in got.index])].sum())


def test_check_names_an_empty_column(sim_tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    tables = dict(sim_tables)
    tables["opportunities"] = tables["opportunities"].assign(deal_type=None)  # an export without a Type column
    project = _project(tables, tmp_path)
    section = inputs_check(project.catalog, project.tables)
    errors = section.rows[section.rows["level"] == "ERROR"]
    assert section.problems == 1
    assert errors[["table", "column"]].values.tolist() == [["opportunities", "deal_type"]]
    kpis = errors["kpis"].iloc[0].split(", ")
    assert {"new_revenue", "deals_won", "opportunities_closed"} <= set(kpis)
    assert f"{len(tables['opportunities']):,} rows" in errors["message"].iloc[0]


def test_check_is_quiet_on_complete_data(sim_project: Project) -> None:
    section = inputs_check(sim_project.catalog, sim_project.tables)
    assert section.problems == 0
    assert section.frame.empty


def test_check_lists_missing_tables_as_information(no_spend: Project) -> None:
    section = inputs_check(no_spend.catalog, no_spend.tables)
    assert section.problems == 0
    info = section.rows[section.rows["level"] == "INFO"]
    assert info["table"].tolist() == ["spend"]
    assert set(SPEND_KPIS) <= set(info["kpis"].iloc[0].split(", "))


def test_an_empty_column_off_the_north_stars_tree_is_a_warning(
    sim_tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    tables = dict(sim_tables)
    tables["leads"] = tables["leads"].assign(segment=None)  # a minimal leads export: no segment
    project = _project(tables, tmp_path)
    section = inputs_check(project.catalog, project.tables)
    rows = section.rows[section.rows["table"] == "leads"]
    assert rows[["column", "level"]].values.tolist() == [["segment", "WARNING"]]
    assert "complete_leads" in rows["kpis"].iloc[0]
    assert section.problems == 0  # data quality reads zero, which is true: listed, not failed
