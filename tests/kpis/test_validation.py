"""A broken catalog per validation rule: each issue names the file, the line and the KPI."""

from __future__ import annotations

from pathlib import Path

import pytest

from revalign.errors import CatalogError
from revalign.kpis import Level, default_catalog, load_catalog

GOOD = """\
  - name: {name}
    description: A test KPI.
    type: simple
    semantic_model: leads
    agg: count
    unit: count
    owner: cmo
    department: marketing
    direction: higher_is_better
    timing: leading
    parent: new_leads
"""

CUMULATIVE = GOOD.format(name="k1").replace(
    "type: simple\n    semantic_model: leads\n    agg: count\n",
    "type: cumulative\n    input_metric: new_leads\n{extra}",
)

# (rule, YAML of the extra file, KPI, marker: the text on the line the issue must point at, message part)
BROKEN = [
    ("schema", GOOD.format(name="k1") + "    colour: blue\n", "k1", "colour: blue", "Extra inputs"),
    ("unique_names", GOOD.format(name="k1") + GOOD.format(name="k1"), "k1", None, "more than once"),
    ("type_keys", GOOD.format(name="k1").replace("agg: count", "agg: average"), "k1", "agg: average", "agg"),
    (
        "expressions",
        GOOD.format(name="k1") + "    filter: \"segment = 'smb'; drop table leads\"\n",
        "k1",
        "filter:",
        "",
    ),
    (
        "expressions",
        GOOD.format(name="k1") + '    filter: "upper_bound(segment) = 1"\n',
        "k1",
        "filter:",
        "not allowed",
    ),
    ("references", GOOD.format(name="k1") + "    filter: \"colour = 'red'\"\n", "k1", "filter:", "'colour'"),
    (
        "references",
        GOOD.format(name="k1").replace("semantic_model: leads", "semantic_model: lead"),
        "k1",
        "semantic_model: lead",
        "Did you mean 'leads'",
    ),
    (
        "references",
        GOOD.format(name="k1").replace(
            "type: simple\n    semantic_model: leads\n    agg: count\n",
            "type: ratio\n    numerator: new_leads\n    denominator: mqlz\n",
        ),
        "k1",
        "denominator: mqlz",
        "mqls",
    ),
    (
        "input_cycles",
        GOOD.format(name="k1").replace(
            "type: simple\n    semantic_model: leads\n    agg: count\n",
            "type: ratio\n    numerator: k2\n    denominator: new_leads\n",
        )
        + GOOD.format(name="k2").replace(
            "type: simple\n    semantic_model: leads\n    agg: count\n",
            "type: derived\n    expr: k1 * 2\n    input_metrics: [k1]\n",
        ),
        "k1",
        "- name: k1",
        "k1 → k2 → k1",
    ),
    (
        "north_star_tree",
        GOOD.format(name="k1").replace("parent: new_leads", "parent: nowhere"),
        "k1",
        "parent: nowhere",
        "orphan",
    ),
    ("north_star_tree", GOOD.format(name="k1").replace("    parent: new_leads\n", ""), "k1", "- name: k1", "orphan"),
    (
        "north_star_tree",
        GOOD.format(name="k1").replace("parent: new_leads", "parent: k2")
        + GOOD.format(name="k2").replace("parent: new_leads", "parent: k1"),
        "k1",
        "parent: k2",
        "cycle",
    ),
    ("north_star_tree", GOOD.format(name="k1") + "    north_star: true\n", "k1", "north_star: true", "exactly one"),
    (
        "governance",
        GOOD.format(name="k1").replace("direction: higher_is_better", "direction: up"),
        "k1",
        "direction: up",
        "must be one of",
    ),
    ("governance", GOOD.format(name="k1").replace("owner: cmo", "owner: nobody"), "k1", "owner: nobody", "people.yaml"),
    (
        "units",
        GOOD.format(name="k1").replace(
            "type: simple\n    semantic_model: leads\n    agg: count\n    unit: count\n",
            "type: ratio\n    numerator: new_revenue\n    denominator: new_leads\n    unit: percent\n",
        ),
        "k1",
        "unit: percent",
        "incompatible units",
    ),
    (
        "targets",
        GOOD.format(name="k1").replace("unit: count", "unit: percent")
        + "    targets:\n      - {period: 2026-Q1, value: 25}\n",
        "k1",
        "period: 2026-Q1",
        "outside the range",
    ),
    (
        "revisions",
        GOOD.format(name="k1")
        + "    revisions:\n      - {effective_from: 2025-06-01, previous: {filter: \"segment = 'smb'\"}}\n"
        + "      - {effective_from: 2025-01-01, previous: {owner: cfo}}\n",
        "k1",
        "effective_from: 2025-01-01",
        "",
    ),
    (  # new_revenue (revised 2024-07) over deals_won (never revised): the same rows, two definitions mixed
        "revision_alignment",
        GOOD.format(name="k1").replace(
            "type: simple\n    semantic_model: leads\n    agg: count\n    unit: count\n",
            "type: ratio\n    numerator: new_revenue\n    denominator: deals_won\n    unit: currency\n",
        ),
        "k1",
        "numerator: new_revenue",
        "revised on different dates (2024-07-01)",
    ),
    (
        "conversion_entity",
        GOOD.format(name="k1")
        .replace(
            "type: simple\n    semantic_model: leads\n    agg: count\n",
            "type: conversion\n    entity: campaign\n    base_metric: mqls\n"
            "    conversion_metric: sqls\n    window: 30 days\n",
        )
        .replace("count", "percent"),
        "k1",
        "entity: campaign",
        "not an entity of",
    ),
    (
        "type_keys",
        GOOD.format(name="k1")
        .replace(
            "type: simple\n    semantic_model: leads\n    agg: count\n",
            "type: conversion\n    entity: lead\n    base_metric: mqls\n"
            "    conversion_metric: sqls\n    window: a fortnight\n",
        )
        .replace("count", "percent"),
        "k1",
        "window: a fortnight",
        "window",
    ),
    (
        "cumulative_input",
        GOOD.format(name="k1").replace(
            "type: simple\n    semantic_model: leads\n    agg: count\n",
            "type: cumulative\n    input_metric: win_rate\n    grain_to_date: year\n",
        ),
        "k1",
        "input_metric: win_rate",
        "not a sum or count",
    ),
    # cumulative KPIs (MetricFlow's window / grain_to_date / period_agg)
    ("type_keys", CUMULATIVE.format(extra="    window: 90 days\n    grain_to_date: month\n"), "k1",
     "grain_to_date: month", "cannot be used together"),
    ("type_keys", CUMULATIVE.format(extra="    window: 3 fortnights\n"), "k1", "window: 3 fortnights", "'30 days'"),
    ("type_keys", CUMULATIVE.format(extra="    window: 0 days\n"), "k1", "window: 0 days", "at least one day"),
    ("type_keys", CUMULATIVE.format(extra="    window: 12 months\n    period_agg: median\n"), "k1",
     "period_agg: median", "period_agg must be one of first, last, average"),
    ("type_keys", CUMULATIVE.format(extra="    grain_to_date: decade\n"), "k1", "grain_to_date: decade",
     "grain_to_date must be one of day"),
    ("type_keys", GOOD.format(name="k1") + "    period_agg: last\n", "k1", "period_agg: last",
     "only applies to cumulative"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "body", "kpi", "marker", "part"), BROKEN, ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)]
)
def test_broken_catalog_reports_file_line_kpi(
    tmp_path: Path, rule: str, body: str, kpi: str, marker: str | None, part: str
) -> None:
    text = "kpis:\n" + body
    (tmp_path / "broken.yaml").write_text(text)
    issues = [i for i in load_catalog(tmp_path).validate() if i.rule == rule]
    assert issues, f"rule {rule} found nothing"
    issue = next((i for i in issues if i.kpi == kpi and part in i.message), None)
    assert issue is not None, [str(i) for i in issues]
    assert issue.file == "broken.yaml"
    lines = text.splitlines()
    expected_line = next(n for n, line in enumerate(lines, 1) if marker in line) if marker else None
    if expected_line is not None:
        assert issue.line == expected_line, str(issue)
    else:
        assert issue.line is not None
    assert "broken.yaml:" in str(issue) and f"[{kpi}]" in str(issue)


def test_default_catalog_is_clean() -> None:
    issues = default_catalog().validate()
    assert [str(i) for i in issues if i.level >= Level.WARNING] == []


def test_check_raises_with_every_error(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        "kpis:\n"
        + GOOD.format(name="k1").replace("owner: cmo", "owner: x")
        + GOOD.format(name="k2").replace("parent: new_leads", "parent: zz")
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path).check()
    assert len([i for i in info.value.issues if i.level == Level.ERROR]) >= 2
    assert "broken.yaml:" in str(info.value)


def test_deprecated_type_params_is_a_future_error(tmp_path: Path) -> None:
    body = GOOD.format(name="k1").replace("    agg: count\n", "    type_params:\n      agg: count\n")
    (tmp_path / "old.yaml").write_text("kpis:\n" + body)
    cat = load_catalog(tmp_path)
    issue = next(i for i in cat.validate() if i.rule == "deprecated_keys")
    assert issue.level == Level.FUTURE_ERROR and issue.line == 6 and issue.kpi == "k1" and "2027" in issue.message
    assert cat.get("k1").agg == "count"


def test_unknown_kpi_suggests_close_names() -> None:
    with pytest.raises(KeyError, match="win_rate"):
        default_catalog().get("win_rat")
