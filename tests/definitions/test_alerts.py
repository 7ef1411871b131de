"""``alerts.yaml``: every problem reported at once with the file, the line and the rule; valid rules kept."""

from __future__ import annotations

import datetime as dt

import pytest

from revalign.definitions.alerts import check_alerts, load_alerts, parse_duration
from revalign.definitions.issues import Level
from revalign.errors import CatalogError

KINDS = ("kpi_off_target", "kpi_forecast_miss", "quarantine_new", "alignment_finding")
TEXT = """\
alerts:
  good:
    condition: kpi_off_target
    kpi: new_revenue
    audience: {roles: [leadership]}
    channels: [email, webhook:chat, inbox]
  no_kpi:
    condition: kpi_forecast_miss
    audience: {teams: [marketing]}
  bad_kind:
    condition: sla_breached
    audience: {users: [ann]}
  bad_fields:
    condition: quarantine_new
    audience: {roles: [leadership]}
    channels: [email, pager]
    cooldown: soon
    grain: fortnight
  nobody:
    condition: quarantine_new
  strangers:
    condition: kpi_off_target
    kpi: no_such_kpi
    audience: {roles: [pilot], teams: [legal]}
    channels: [webhook:teams]
"""


def by_rule(issues):
    return sorted((i.subject, i.line, i.rule or i.path) for i in issues)


def test_every_problem_has_its_file_line_and_rule_and_the_valid_rule_is_kept():
    rules, issues = check_alerts(
        TEXT, "alerts.yaml", kinds=KINDS, kpis={"new_revenue"}, roles={"leadership", "marketing"}, webhooks={"chat"}
    )
    assert list(rules) == ["good"]
    assert rules["good"].webhooks(["chat", "other"]) == ["chat"]
    assert all(i.file == "alerts.yaml" and i.level == Level.ERROR and i.kind == "alert" for i in issues)
    assert by_rule(issues) == [
        ("bad_fields", 16, "bad_fields.channels"),  # the channels list
        ("bad_fields", 17, "bad_fields.cooldown"),
        ("bad_fields", 18, "bad_fields.grain"),
        ("bad_kind", 10, "known_condition"),
        ("no_kpi", 7, "kpi_known"),
        ("nobody", 19, "audience"),
        ("strangers", 21, "audience"),  # unknown role
        ("strangers", 21, "audience"),  # unknown team
        ("strangers", 21, "kpi_known"),
        ("strangers", 21, "webhook"),
    ]
    text = "\n".join(map(str, issues))
    assert "alerts.yaml:10 [bad_kind] (known_condition): unknown condition 'sla_breached'" in text
    assert "unknown team 'legal'" in text and "unknown role 'pilot'" in text
    assert "webhook 'teams' is not in revalign.yaml alerts.webhooks" in text


def test_a_new_kind_is_accepted_once_the_evaluator_knows_it():
    rules, issues = check_alerts(TEXT, "alerts.yaml", kinds=(*KINDS, "sla_breached"))
    assert "bad_kind" in rules and not [i for i in issues if i.subject == "bad_kind"]


def test_broken_yaml_and_a_missing_top_level_key_point_at_the_line(tmp_path):
    _, issues = check_alerts("alerts:\n  a: [\n", "x.yaml", kinds=KINDS)
    assert issues[0].rule is None and issues[0].line == 3 and "not valid YAML" in issues[0].message
    _, issues = check_alerts("rules: {}\n", "x.yaml", kinds=KINDS)
    assert (issues[0].line, issues[0].rule) == (1, "structure")
    path = tmp_path / "alerts.yaml"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"alerts\.yaml:10"):
        load_alerts(path, kinds=KINDS)
    assert load_alerts(tmp_path / "missing.yaml", kinds=KINDS) == {}


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("24h", 86400), ("1.5d", 129600), ("2w", 1209600)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


def test_a_duration_without_a_unit_is_refused():
    with pytest.raises(ValueError, match="like '24h'"):
        parse_duration("24")


def test_a_slice_value_with_a_quote_is_refused_at_its_line():
    text = 'alerts:\n  r:\n    condition: kpi_off_target\n    kpi: win_rate\n    slice: {segment: "o\'hara"}\n'
    rules, issues = check_alerts(text, "alerts.yaml", kinds=KINDS)
    assert rules == {} and [(i.line, i.path) for i in issues] == [(5, "r.slice")]
