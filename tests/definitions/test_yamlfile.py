"""The one YAML reader, the one Issue and the one rule runner that every definition kind uses."""

from __future__ import annotations

from revalign.definitions.issues import Issue, Level
from revalign.definitions.validate import Rule, run_rules
from revalign.definitions.yamlfile import LineDict, LineList, line_of, parse_yaml

TEXT = (
    "funnels:\n"  # 1
    "  bad:\n"  # 2
    "    order: sideways\n"  # 3
    "    steps:\n"  # 4
    "      - name: a\n"  # 5
    "      - {name: b, within: soon}\n"  # 6
    "    order: again\n"  # 7: a repeated key
)


def test_values_know_their_lines_and_line_of_follows_a_path():
    data = parse_yaml(TEXT)
    assert isinstance(data, LineDict) and isinstance(data["funnels"]["bad"]["steps"], LineList)
    bad = data["funnels"]["bad"]
    assert (bad.line, bad.key_lines["steps"], bad.value_lines["order"]) == (3, 4, 3)
    assert bad.duplicates == [("order", 7)] and bad["order"] == "again"  # YAML keeps the last value
    assert line_of(data, ("funnels", "bad", "order")) == 3
    assert line_of(data, ("funnels", "bad", "steps")) == 5  # a sequence value: where it starts
    assert line_of(data, ("funnels", "bad", "steps", 1, "within")) == 6
    assert line_of(data, ("funnels", "bad", "steps", 1, "function-after[...]")) == 6  # unknown parts stop there
    assert line_of(data, ("funnels", "nope")) == 2


def test_one_issue_renders_every_kind_and_the_runner_sorts_errors_first():
    target = Issue(Level.ERROR, "unknown KPI 'x'.", file="t.csv", subject="x", rule="kpi", kind="target", row=1,
                   column="kpi")  # fmt: skip
    assert str(target) == "t.csv row 1, column kpi [x] (kpi): unknown KPI 'x'."
    funnel = Issue(Level.ERROR, "bad order", file="f.yaml", line=3, subject="bad", kind="funnel", path="bad.order")
    assert str(funnel) == "f.yaml:3: bad.order: bad order" and funnel.kpi is None
    warning = Issue(Level.WARNING, "empty", file="k.yaml", line=2, subject="k", rule="governance")
    assert str(warning) == "WARNING k.yaml:2 [k] (governance): empty" and warning.kpi == "k"
    assert warning.to_dict()["level"] == "WARNING"

    class Everything(Rule[list[Issue]]):
        name = "everything"

        def check(self, subject: list[Issue]) -> list[Issue]:
            return subject

    assert run_rules([warning, funnel], [Everything()], found=[target]) == [funnel, target, warning]
