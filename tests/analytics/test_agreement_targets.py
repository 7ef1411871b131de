"""The signed agreement's shared-KPI targets drive the scorecard, effective-dated; a clash with a target file is
reported with both places.

A hand-made project (simulated data, scale xs) with two versions of agreement ``ms``:

- v1 from 2024-01-01: new revenue 1,000,000 for 2025-Q1, 1,100,000 for 2025-Q3 and 1,200,000 for 2025-Q4; win
  rate 0.25 (no period: every period while v1 is in force);
- v2 from 2025-07-01: new revenue 1,300,000 for 2025-Q3; win rate 0.30.

So 2025-Q1 is scored against v1 (1,000,000 and 0.25) whether or not v2 is signed, and 2025-Q3 against v2
(1,300,000 and 0.30) once it is signed, against v1 (1,100,000 and 0.25) while it is not. Once v2 is signed,
v1's 2025-Q4 target is not counted (v2 governs that quarter and restates no target for it): a warning at its line;
v1's 2025-Q3 target, which v2 restates, is simply replaced.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from revalign.definitions.issues import Level
from revalign.interfaces.cli import app
from revalign.project import init_project, open_project
from revalign.simulate import simulate

V1 = """\
agreement: ms
version: 1
effective_from: 2024-01-01
signatories: [{role: marketing, person: cmo}, {role: sales, person: vp_sales}]
kpis:
  - {kpi: new_revenue, target: 1000000, period: 2025-Q1}
  - {kpi: new_revenue, target: 1100000, period: 2025-Q3}
  - {kpi: new_revenue, target: 1200000, period: 2025-Q4}
  - {kpi: win_rate, target: 0.25}
"""
V2 = """\
agreement: ms
version: 2
effective_from: 2025-07-01
signatories: [{role: marketing, person: cmo}, {role: sales, person: vp_sales}]
kpis:
  - {kpi: new_revenue, target: 1300000, period: 2025-Q3}
  - {kpi: win_rate, target: 0.30}
"""
TARGETS = """\
targets:
  new_revenue:
    - {period: 2025-Q1, value: 900000}
  win_rate: {2024-Q3: 0.25}
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("agreed-targets")
    init_project(path, engine_url="duckdb:///revalign.duckdb")
    project = open_project(path)
    simulate(scale="xs", seed=1).write(project.engine)
    project.close()
    (path / "agreements").mkdir()
    (path / "agreements" / "v1.yaml").write_text(V1, encoding="utf-8")
    (path / "agreements" / "v2.yaml").write_text(V2, encoding="utf-8")
    return path


@pytest.fixture
def project(folder):
    proj = open_project(folder)
    yield proj
    proj.close()


def targets_of(project, period: str) -> dict[str, tuple[float | None, str | None]]:
    card = project.scorecard(period=period, grain="quarter", kpis=["new_revenue", "win_rate"])
    return {r.kpi: (r.target, r.target_source) for r in card.rows}


def test_the_scorecard_uses_the_version_in_force_in_each_period(project, folder):
    project.use_signoff({("ms", 1), ("ms", 2)})
    q1, q3 = targets_of(project, "2025-Q1"), targets_of(project, "2025-Q3")
    v1, v2 = folder / "agreements" / "v1.yaml", folder / "agreements" / "v2.yaml"
    assert q1["new_revenue"] == (1_000_000, f"agreement ms v1, {v1}:{line_of(V1, '1000000')}")
    assert q1["win_rate"] == (0.25, f"agreement ms v1, {v1}:{line_of(V1, '0.25')}")
    assert q3["new_revenue"] == (1_300_000, f"agreement ms v2, {v2}:{line_of(V2, '1300000')}")
    assert q3["win_rate"] == (0.30, f"agreement ms v2, {v2}:{line_of(V2, '0.30')}")
    # the trend: each quarter judged against the target in force then (v1's win rate before July, v2's after)
    card = project.scorecard(period="2025-Q3", grain="quarter", kpis=["win_rate"], trend_periods=3)
    assert card.rows[0].trend_targets == (0.25, 0.25, 0.30)


def test_an_unsigned_version_changes_no_target(project):
    project.use_signoff({("ms", 1)})
    q3 = targets_of(project, "2025-Q3")
    assert q3["new_revenue"][0] == 1_100_000
    assert q3["win_rate"][0] == 0.25
    assert targets_of(project, "2025-Q1")["new_revenue"][0] == 1_000_000


def test_a_clash_with_a_target_file_names_both_places(project, folder):
    (folder / "targets.yaml").write_text(TARGETS, encoding="utf-8")
    try:
        project.use_signoff({("ms", 1), ("ms", 2)})
        _, issues = project.checked_targets()
        clashes = [i for i in issues if i.rule == "agreement" and i.level == Level.ERROR]
        shadowed = [i for i in issues if i.rule == "agreement" and i.level == Level.WARNING]
        # v1's 2025-Q4 target: v2 governs that quarter and sets none for it, so it is lost (a warning at its line)
        assert [(i.line, "2025-Q4" in i.message) for i in shadowed] == [(line_of(V1, "1200000"), True)]
        assert len(clashes) == 1  # win_rate 2024-Q3 says what v1 says (0.25): the same target twice is no clash
        clash = clashes[0]
        v1 = folder / "agreements" / "v1.yaml"
        assert (clash.file, clash.line, clash.kpi) == (str(v1), line_of(V1, "1000000"), "new_revenue")
        assert f"targets.yaml:{line_of(TARGETS, '900000')}" in clash.message
        assert "900,000" in clash.message and "1,000,000" in clash.message
        assert targets_of(project, "2025-Q1")["new_revenue"][0] == 1_000_000  # the signed agreement's is used
        result = CliRunner().invoke(app, ["check", "--project", str(folder)])
        assert f"{v1}:{line_of(V1, '1000000')}" in result.output.replace("\n", "")
    finally:
        (folder / "targets.yaml").unlink()
