"""Comp plan files: the shipped example reads cleanly, and every mistake is reported with file and line."""

from __future__ import annotations

import pytest

from revalign.definitions.comp import (
    EXAMPLE_FILE,
    check_comp_plans,
    example_comp_plan_text,
    load_comp_plans,
    parse_comp_plans,
)
from revalign.errors import CatalogError, UnknownNameError
from tests.analytics.incentives.hand import PLAN_YAML


def test_the_example_plan_is_valid_and_pays_more_for_sales_sourced_deals():
    plans, issues = check_comp_plans([(example_comp_plan_text(), EXAMPLE_FILE)])
    assert issues == []
    plan = plans[0]
    assert plan.credit.multiplier("sales") == 1.5 and plan.credit.multiplier("marketing") == 1.0
    assert plan.credit.source_group("webinar") == "marketing" and plan.credit.source_group("outbound_sales") == "sales"
    assert plan.north_star_share == pytest.approx(0.8)  # new revenue 0.8 of 1.0; sourced pipeline is not tied
    assert load_comp_plans([])["ae_plan"] == plan  # a project without comp_plans/ gets the example


def test_schema_errors_name_the_file_and_line():
    text = PLAN_YAML.replace("    cap: 12000\n", "    cap: 12000\n    capp: 1\n")
    _, issues = check_comp_plans([(text, "bad.yaml")])
    assert [(i.file, i.line, i.kind) for i in issues] == [("bad.yaml", 17, "comp_plan")]
    assert "capp" in issues[0].message


def test_rules_collect_every_problem_at_once():
    text = (
        PLAN_YAML.replace("{upto: 0.5, rate: 0.05}", "{upto: 1.5, rate: 0.05}")
        .replace("lead_owner: 0.2", "lead_owner: 0.3")
        .replace("roles: [ae, sdr, manager]", "roles: []")
    )
    _, issues = check_comp_plans([(text, "bad.yaml"), (PLAN_YAML, "a.yaml"), (PLAN_YAML, "b.yaml")])
    rules = sorted(i.rule or "" for i in issues)
    assert rules == ["applies_to", "credit", "measures", "unique_versions", "unique_versions"]
    by_rule = {i.rule: i for i in issues}
    assert by_rule["credit"].line == 17 and "add up to 1" in by_rule["credit"].message
    assert by_rule["measures"].line == 7 and "tiers must rise" in by_rule["measures"].message
    with pytest.raises(CatalogError, match=r"bad\.yaml:17"):
        parse_comp_plans((text, "bad.yaml"))


def test_an_unknown_measure_suggests_the_close_names():
    plan = parse_comp_plans((PLAN_YAML, "a.yaml"))["team_plan"]
    with pytest.raises(UnknownNameError, match="new_revenue"):
        plan.measure("new_revenu")
