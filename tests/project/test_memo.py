"""The non-KPI analytics are cached per data version and definitions (revalign/project/memo.py): asked twice on
unchanged data they are computed once, and new data or an edited definition file is never answered with the old
result.

The oracle is plain pandas over the fixture's rows: new_revenue (won new-business amounts by close month).
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from revalign.definitions.agreements.loader import example_agreement_text, parse_agreements
from revalign.definitions.issues import errors
from revalign.project import Project
from revalign.project.memo import ANALYTICS, AnalyticsMemo
from tests.interfaces.server.conftest import OPPORTUNITIES, USERS, write_canonical

OPPS = OPPORTUNITIES.assign(deal_type="new_business", closed_at=OPPORTUNITIES["created_at"] + pd.Timedelta(days=3))


def new_revenue(opps: pd.DataFrame, month: str) -> float:
    """The oracle: amounts of won new-business opportunities closed in ``month``."""
    won = opps[opps["is_won"] & (opps["deal_type"] == "new_business")]
    return float(won.loc[won["closed_at"].dt.strftime("%Y-%m") == month, "amount"].sum())


@pytest.fixture
def project(tmp_path) -> Iterator[Project]:
    project = Project(tmp_path, engine="duckdb://:memory:")
    write_canonical(project, "opportunities", OPPS)
    write_canonical(project, "users", USERS)
    yield project
    project.close()


def bridge(project: Project) -> tuple[float, float]:
    dec = project.decompose(start="2025-01", end="2025-02", grain="month")
    return dec.value_from, dec.value_to


def test_unchanged_data_is_computed_once(project: Project) -> None:
    misses = ANALYTICS.misses
    # o1 (1000) closes 2025-01-13, o3 (4000) closes 2025-02-03: the other three are lost or open
    assert bridge(project) == (new_revenue(OPPS, "2025-01"), new_revenue(OPPS, "2025-02")) == (1000.0, 4000.0)
    hits = ANALYTICS.hits
    assert bridge(project) == (1000.0, 4000.0)
    assert (ANALYTICS.misses, ANALYTICS.hits) == (misses + 1, hits + 1)


def test_new_data_is_never_answered_from_the_old_version(project: Project) -> None:
    assert bridge(project) == (1000.0, 4000.0)
    more = OPPS.iloc[[0]].assign(opportunity_id="o6", amount=500.0, closed_at=pd.Timestamp("2025-02-10 12:00"))
    grown = pd.concat([OPPS, more], ignore_index=True)
    write_canonical(project, "opportunities", grown)
    misses = ANALYTICS.misses
    assert bridge(project) == (new_revenue(grown, "2025-01"), new_revenue(grown, "2025-02")) == (1000.0, 4500.0)
    assert ANALYTICS.misses == misses + 1


def test_an_edited_definition_file_computes_again(project: Project) -> None:
    bridge(project)
    misses = ANALYTICS.misses
    (project.folder / "targets.csv").write_text("kpi,period,value\nnew_revenue,2025-02,5000\n", encoding="utf-8")
    assert bridge(project) == (1000.0, 4000.0)
    assert ANALYTICS.misses == misses + 1


def test_a_caller_editing_its_result_does_not_change_the_next_callers() -> None:
    memo = AnalyticsMemo()
    first = memo.get_or_compute("k", lambda: pd.DataFrame({"x": [1, 2]}))
    first.loc[0, "x"] = 99
    assert memo.get_or_compute("k", lambda: pd.DataFrame({"x": [0]}))["x"].tolist() == [1, 2]


def test_agreements_are_validated_once_per_definitions_and_again_after_an_edit(project: Project) -> None:
    misses, hits = ANALYTICS.misses, ANALYTICS.hits
    book, _ = project.checked_agreements()
    assert [(v.agreement, v.version) for v in book.versions] == [("marketing_sales", 1)]  # the shipped example
    # new data does not read them again: they depend on the definitions only (no query builds the key)
    write_canonical(project, "opportunities", OPPS.iloc[:2])
    assert project.checked_agreements()[0].versions == book.versions
    assert (ANALYTICS.misses, ANALYTICS.hits) == (misses + 1, hits + 1)
    # the project's own agreement file, with a second version: read, validated and answered at once
    text = example_agreement_text().replace(
        "version: 1\neffective_from: 2024-01-01", "version: 2\neffective_from: 2025-01-01"
    )
    (project.folder / "agreements").mkdir(parents=True)
    (project.folder / "agreements" / "ms.yaml").write_text(text, encoding="utf-8")
    edited, issues = project.checked_agreements()
    assert [(v.agreement, v.version) for v in edited.versions] == [("marketing_sales", 2)]
    assert edited.versions == parse_agreements((text, str(project.folder / "agreements" / "ms.yaml"))).versions
    assert not errors(issues) and ANALYTICS.misses == misses + 2
