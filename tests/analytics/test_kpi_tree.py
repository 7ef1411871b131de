"""The whole KPI tree: every KPI of a scorecard under its catalog parent, checked on a hand-made card (order,
depth, links, a cycle, a slice, contributions) and on a simulated company against a plain walk up the catalog's
parent links."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from revalign.analytics.governance.decomposition import Contribution, Decomposition
from revalign.analytics.governance.kpi_tree import kpi_tree
from revalign.analytics.governance.scorecard import Scorecard, ScorecardRow
from revalign.interfaces.cli import main
from revalign.project import Project, init_project, open_project


def row(kpi: str, parent: str | None, department: str = "sales", *, actual: float = 1.0, **dims: str) -> ScorecardRow:
    return ScorecardRow(
        kpi=kpi, label=kpi.title(), department=department, owner=None, unit="count", direction="up", timing=None,
        parent=parent, is_north_star=kpi == "star", dims=dims, period="2025-Q4", actual=actual, target=None,
        attainment=None, gap=None, status="no_target", previous_period="2025-Q3", previous=None, change=None,
        pct_change=None, movement="", trend=(), trend_periods=(), trend_direction="",
    )  # fmt: skip


def card(*rows: ScorecardRow, by: tuple[str, ...] = ()) -> Scorecard:
    return Scorecard(period="2025-Q4", grain="quarter", department=None, north_star="star", rows=rows, by=by)


def contribution(kpi: str, value: float) -> Contribution:
    return Contribution(
        kpi=kpi, kind="leaf", label=kpi, department=None, unit="count", parent="star", level=1, path=("star", kpi),
        is_leaf=True, value_from=0.0, value_to=0.0, change=0.0, pct_change=None, contribution=value,
        contribution_pct=None,
    )  # fmt: skip


def test_a_hand_made_card_is_placed_depth_first_north_star_first():
    # star ← (leads [marketing], wins [sales]); wins ← win_rate; orphan has no parent; a ↔ b parent each other
    rows = (
        row("wins", "star"),
        row("orphan", None),
        row("win_rate", "wins"),
        row("star", None),
        row("leads", "star", "marketing"),
        row("a", "b"),
        row("b", "a"),
        row("stray", "not_on_card"),
    )
    dec = Decomposition(
        tree="t", root="star", label="Star", unit="count", period_from="2025-Q3", period_to="2025-Q4",
        value_from=1.0, value_to=2.0, change=1.0, pct_change=1.0, formula_change=1.0, residual=0.0, method="shapley",
        rows=(contribution("wins", 0.75), contribution("leads", 0.25)),
    )  # fmt: skip
    tree = kpi_tree(card(*rows), dec)
    # siblings by department then name: marketing's leads before sales's wins; roots after the star by name
    # a ↔ b: a loop never reaches a root; placed from its first KPI (by name), unlinked, the loop cut there
    assert list(tree["kpi"]) == ["star", "leads", "wins", "win_rate", "orphan", "stray", "a", "b"]
    assert list(tree["depth"]) == [0, 1, 1, 2, 0, 0, 0, 1]
    assert list(tree["linked"]) == [True, True, True, True, False, False, False, False]
    assert list(tree["children"]) == [2, 0, 1, 0, 0, 0, 1, 1]
    assert tree["parent"].fillna("-").tolist() == ["-", "star", "star", "wins", "-", "-", "-", "a"]
    assert tree.set_index("kpi")["contribution"].to_dict()["wins"] == 0.75
    assert tree.set_index("kpi")["contribution"].isna().to_dict()["win_rate"]


def test_a_sliced_card_needs_one_value_per_dimension():
    rows = (row("star", None, segment="smb", actual=5.0), row("star", None, segment="enterprise", actual=7.0))
    sliced = card(*rows, by=("segment",))
    with pytest.raises(ValueError, match="sliced by"):
        kpi_tree(sliced)
    assert kpi_tree(sliced, where={"segment": "enterprise"})["actual"].tolist() == [7.0]


@pytest.fixture(scope="module")
def sim_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from revalign.simulate import simulate

    folder = tmp_path_factory.mktemp("tree")
    init_project(folder, name="tree")
    project = open_project(folder)
    simulate(scale="xs", seed=2).write(project.engine)
    project.close()
    return folder


@pytest.fixture
def sim_project(sim_folder: Path) -> Iterator[Project]:
    project = open_project(sim_folder)
    yield project
    project.close()


def test_every_catalog_kpi_is_placed_at_its_depth_in_the_catalog(sim_project):
    tree = sim_project.kpi_tree()
    catalog = sim_project.catalog
    assert sorted(tree["kpi"]) == sorted(catalog.kpis)  # each KPI exactly once
    for r in tree.itertuples():
        hops, name = 0, r.kpi  # walk up the catalog's own parent links
        while catalog.get(name).parent in catalog.kpis and catalog.get(name).parent != name and hops < 50:
            name, hops = catalog.get(name).parent, hops + 1
        assert r.depth == hops, r.kpi
        assert r.linked == (name == catalog.north_star), r.kpi
    card = sim_project.scorecard()
    by_kpi = {r.kpi: r for r in card.rows}
    assert all(tree["status"] == [by_kpi[k].status for k in tree["kpi"]])  # the joint scorecard's statuses


def test_the_cli_prints_the_tree(sim_folder, capsys):
    project = open_project(sim_folder)
    star = project.catalog.north_star
    label = project.catalog.get(star).label
    project.close()
    assert main(["kpi", "tree", "--project", str(sim_folder), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["kpi"] == star and rows[0]["depth"] == 0
    assert main(["kpi", "tree", "--project", str(sim_folder)]) == 0
    assert label in capsys.readouterr().out.splitlines()[0]
