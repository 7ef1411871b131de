"""Driver-tree YAML: the shipped trees load; bad formulas, unknown KPIs and cycles are reported with file and line."""

from __future__ import annotations

import math
import textwrap

import pytest

from revalign.definitions.trees import (
    FormulaError,
    default_trees,
    find_tree,
    load_trees,
    parse_formula,
    parse_tree,
)
from revalign.errors import CatalogError, UnknownNameError


def test_default_trees_have_the_documented_shape():
    trees = default_trees()
    revenue = trees["revenue"]
    assert revenue.root == "new_revenue"
    assert revenue.leaves == ("new_leads", "lead_to_opportunity_rate", "win_rate", "average_deal_size")
    assert revenue.formulas["new_revenue"].exponents == dict.fromkeys(revenue.leaves, 1)
    assert trees["ltv_cac"].edges() == [
        ("ltv", "ltv_to_cac"),
        ("cac", "ltv_to_cac"),
        ("arpa", "ltv"),
        ("logo_churn_rate", "ltv"),
        ("acquisition_spend", "cac"),
        ("new_customers", "cac"),
    ]
    assert find_tree(trees, root="ltv_to_cac").name == "ltv_cac"
    with pytest.raises(UnknownNameError, match="revenue"):
        find_tree(trees, name="revenu")


def test_formula_evaluates_whitelisted_arithmetic():
    f = parse_formula("(a + b) * 2 / -c")
    assert f.inputs == ("a", "b", "c")
    assert f({"a": 1, "b": 2, "c": 3}) == (1 + 2) * 2 / -3
    assert math.isnan(f({"a": 1, "b": 2, "c": 0}))  # division by zero is undefined, not an exception
    assert math.isnan(f({"a": 1}))  # a missing input too
    assert f.exponents is None and parse_formula("a / b * c").exponents == {"a": 1, "b": -1, "c": 1}
    assert parse_formula("a * a").exponents is None  # repeated factor: not a plain LMDI product


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a ** 2", r"'a \*\* 2' is not allowed"),
        ("__import__('os')", "not allowed"),
        ("a.b", "not allowed"),
        ("a if b else c", "not allowed"),
        ("a % b", "not allowed"),
        ("a *", "cannot parse"),
        ("'text'", "not allowed"),
        ("", "non-empty"),
    ],
)
def test_formula_whitelist_refuses_everything_else(text, fragment):
    with pytest.raises(FormulaError, match=fragment):
        parse_formula(text)


BAD = textwrap.dedent(
    """\
    tree:
      name: bad
      root: y
      colour: red
      nodes:
        y: a * b
        a: y + c
        c: d / nope
        orphan: a
        e: b ** 2
    """
)


def test_every_problem_is_reported_with_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_trees([tmp_path], known_kpis=["y", "a", "b", "c", "d", "e", "orphan"], include_defaults=False)
    issues = {(i.rule, i.line) for i in info.value.issues}
    assert ("unknown_key", 4) in issues  # colour
    assert ("formula_whitelist", 10) in issues  # ** on line 10
    assert ("unknown_kpi", 8) in issues  # nope, used by c on line 8
    assert ("cycle", 7) in issues  # a → y → a, reported where the loop closes (a's formula)
    assert ("unreachable", 9) in issues  # orphan
    assert len(info.value.issues) == 5
    assert all(i.file == str(path) for i in info.value.issues)
    message = str(info.value)
    assert f"{path}:10" in message and "'nope'" in message and "y → a → y" in message


def test_unknown_kpi_suggests_close_names():
    text = "tree:\n  name: t\n  root: y\n  nodes:\n    y: win_rat * leads\n"
    with pytest.raises(CatalogError) as info:
        parse_tree(text, file="t.yaml", known_kpis=["y", "win_rate", "leads"])
    (issue,) = info.value.issues
    assert issue.line == 5 and issue.rule == "unknown_kpi" and "Did you mean 'win_rate'" in issue.message


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("tree: [1, 2]\n", "structure"),
        ("tree:\n  name: t\n  nodes:\n    y: a\n", "required"),  # no root
        ("tree:\n  name: t\n  root: y\n  nodes:\n    z: a\n", "root"),  # root has no formula (and z unreachable)
        ("tree:\n  name: t\n  root: y\n  nodes:\n    y: a\n    y: b\n", "duplicate"),
        ("tree:\n  name: t\n  root: y\n  nodes: {y: [a]}\n", "formula_syntax"),
        ("tree: {name: t, root: y, nodes: {y: a\n", "yaml"),
        ("", "structure"),
    ],
)
def test_structural_errors(text, rule):
    with pytest.raises(CatalogError) as info:
        parse_tree(text, file="t.yaml")
    assert rule in {i.rule for i in info.value.issues}


def test_project_tree_replaces_a_default_of_the_same_name(tmp_path):
    (tmp_path / "revenue.yaml").write_text(
        "tree:\n  name: revenue\n  root: new_revenue\n  nodes:\n    new_revenue: opportunities_created * win_rate"
        " * average_deal_size\n",
        encoding="utf-8",
    )
    trees = load_trees([tmp_path])
    assert trees["revenue"].leaves == ("opportunities_created", "win_rate", "average_deal_size")
    assert trees["revenue"].source == str(tmp_path / "revenue.yaml")
    assert "ltv_cac" in trees
