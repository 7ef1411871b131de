"""Scoring model files: the shipped model reads cleanly, and each rule reports its problem at its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from revalign.checks import scoring_check
from revalign.definitions.scoring import (
    check_project_scoring,
    check_scoring,
    default_scoring,
    parse_scoring,
    pick_model,
)
from revalign.errors import CatalogError, UnknownNameError

VALID = """\
scoring:
  name: lead_score
  version: 2
  owners:
    - {name: Head of demand gen, department: marketing}
    - {name: VP sales, department: sales}
  fit:
    - {name: segment, field: segment, points: {smb: 5, enterprise: 25}}
  engagement:
    - {name: touch, points: 5}
  caps: {engagement: 40}
  mql_threshold: 40
  bands: {C: 0, A: 80, B: 40}
"""


def test_the_shipped_simulator_model_is_valid_and_owned_by_both_teams() -> None:
    model = default_scoring()[("lead_score", 1)]
    assert {o.department for o in model.owners} >= {"marketing", "sales"}
    assert (model.mql_threshold, model.caps) == (60.0, {"engagement": 40.0})


def test_bands_are_ordered_by_cut_point_and_a_score_takes_the_highest_it_reaches() -> None:
    model = parse_scoring(VALID, "v.yaml")
    assert list(model.bands) == ["A", "B", "C"]
    assert [model.band_of(s) for s in (100, 80, 79.9, 40, 0, -5)] == ["A", "A", "B", "B", "C", "C"]


def test_the_content_hash_follows_the_content_not_the_layout() -> None:
    a = parse_scoring(VALID, "a.yaml")
    b = parse_scoring(VALID.replace("  caps: {engagement: 40}\n", "  caps:\n    engagement: 40\n"), "b.yaml")
    c = parse_scoring(VALID.replace("mql_threshold: 40", "mql_threshold: 45"), "c.yaml")
    assert a.content_hash() == b.content_hash() != c.content_hash()


@pytest.mark.parametrize(
    ("edit", "rule", "line"),
    [
        (("    - {name: VP sales, department: sales}\n", ""), "owners", 5),
        (("field: segment", "field: shoe_size"), "field", 8),
        (("points: 5}", "points: -5}"), "sign", 10),
        (("{engagement: 40}", "{engagment: 40}"), "cap", 11),
        (("  mql_threshold: 40\n", "  mql_threshold: 40\n  touches_until: signed\n"), "stage", 13),
        (("name: touch", "name: segment"), "duplicate", 10),
        (("version: 2", "version: zero"), "schema", 3),
        (("  mql_threshold: 40\n", ""), "schema", 2),
    ],
)
def test_each_problem_names_its_rule_file_and_line(edit: tuple[str, str], rule: str, line: int) -> None:
    text = VALID.replace(*edit)
    assert text != VALID
    _model, issues = check_scoring(text, "scoring/lead_score.yaml")
    found = [(i.rule, i.line) for i in issues]
    assert (rule, line) in found, found
    assert all(i.file == "scoring/lead_score.yaml" and i.kind == "scoring" for i in issues)
    with pytest.raises(CatalogError, match=r"scoring/lead_score\.yaml:\d+"):
        parse_scoring(text, "scoring/lead_score.yaml")


def test_a_project_with_two_files_for_one_version_must_bump_the_version(tmp_path: Path) -> None:
    (tmp_path / "scoring").mkdir()
    (tmp_path / "scoring" / "a.yaml").write_text(VALID)
    (tmp_path / "scoring" / "b.yaml").write_text(VALID.replace("mql_threshold: 40", "mql_threshold: 50"))
    (tmp_path / "scoring" / "c.yaml").write_text(VALID.replace("version: 2", "version: 3"))
    models, issues = check_project_scoring(tmp_path)
    assert sorted(models) == [("lead_score", 2), ("lead_score", 3)]
    assert [(i.rule, Path(i.file or "").name) for i in issues] == [("version", "b.yaml")]
    assert pick_model(models, "lead_score", None).version == 3
    with pytest.raises(UnknownNameError, match="lead_scor"):
        pick_model(models, "lead_scor", None)


def test_revalign_check_lists_scoring_problems_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "scoring.yaml").write_text(VALID.replace("department: sales", "department: finance"))
    section = scoring_check(tmp_path)
    assert section.problems == 1
    row = section.rows.iloc[0]
    assert (Path(row["file"]).name, row["line"], row["model"], row["rule"]) == (
        "scoring.yaml",
        5,
        "lead_score@2",
        "owners",
    )
