"""Dimensions reached through joins are listed by qualified name, and each one listed slices the KPI exactly as a
plain pandas join along the same path does (an opportunity's region is its own; its owner's team's is
``team__region``)."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.definitions.kpis.spec import STANDARD_DIMENSIONS
from revalign.errors import UnknownNameError
from revalign.interfaces.cli import main
from revalign.project import Project


def test_new_revenue_lists_the_team_region_with_its_path(sim_project: Project) -> None:
    joined = sim_project.catalog.joined_dimensions_of("new_revenue")
    assert joined["team__region"] == "owner → team"
    assert joined["account__segment"] == "account"
    assert "region" not in joined  # the plain name is the opportunity's own column


@pytest.mark.slow
def test_every_listed_dimension_slices(sim_project: Project) -> None:
    for name in sim_project.catalog.joined_dimensions_of("win_rate"):
        frame = sim_project.kpi("win_rate").grain("year").by(name).no_cache().to_pandas()
        assert not frame.empty and name in frame.columns


def test_team_region_matches_a_pandas_join(sim_project: Project, sim_tables: dict[str, pd.DataFrame]) -> None:
    got = sim_project.kpi("new_revenue").grain("year").by("team__region").no_cache().to_pandas()
    o, u, t = sim_tables["opportunities"], sim_tables["users"], sim_tables["teams"]
    won = o[o["is_won"].astype(bool) & (o["deal_type"] == "new_business")]
    j = won.merge(u[["user_id", "team_id"]], left_on="owner_id", right_on="user_id", how="left")
    j = j.merge(t[["team_id", "region"]].rename(columns={"region": "team_region"}), on="team_id", how="left")
    j["year"] = pd.to_datetime(j["closed_at"]).dt.year
    expected = j.groupby(["year", j["team_region"].fillna("(none)")])["amount"].sum()
    got_series = got.set_index([pd.to_datetime(got["period_start"]).dt.year, "team__region"])["value"]
    assert got_series.sort_index().to_dict() == pytest.approx(expected.sort_index().to_dict())


def test_kpi_show_prints_joined_dimensions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpi", "show", "new_revenue", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"team__region": "owner \\u2192 team"' in out or '"team__region": "owner → team"' in out


@pytest.fixture(scope="module")
def unbound_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    # compiling uses unbound tables: no data is read
    return Project(tmp_path_factory.mktemp("slices"), engine="duckdb://:memory:")


@pytest.mark.slow
def test_sliceable_means_it_compiles(unbound_project: Project) -> None:
    """What the catalog lists as sliceable (a sliced scorecard keeps it) is exactly what the compiler can slice
    (``kpi eval --by`` answers): quota sliced by its owner's team's region was computed by one and left out by the
    other."""
    catalog = unbound_project.catalog
    disagree = []
    for name in sorted(catalog.kpis):
        for dim in STANDARD_DIMENSIONS:
            try:
                unbound_project.kpi(name).by(dim).to_ibis(bound=False)
                compiles = True
            except UnknownNameError:
                compiles = False
            if compiles != catalog.can_slice(name, [dim]):
                disagree.append((name, dim, compiles))
    assert disagree == []
    assert catalog.can_slice("quota", ["region"])  # through owner → team
