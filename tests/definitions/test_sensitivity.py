"""``sensitivity: pay``: set in the default catalog, inherited by KPIs computed from pay data, validated."""

from __future__ import annotations

from pathlib import Path

from revalign.definitions.issues import Level
from revalign.definitions.kpis.catalog import default_catalog, load_catalog
from revalign.definitions.kpis.sensitivity import PAY_TABLES, pay_kpis

GOVERNANCE = """    unit: currency
    owner: cro
    department: sales
    direction: higher_is_better
    timing: lagging
    parent: new_revenue
"""


def test_default_catalog_marks_every_kpi_over_pay_data():
    cat = default_catalog()
    pay = pay_kpis(cat.kpis, cat.semantic_models)
    # independently: the KPIs whose semantic model reads a pay table, and every KPI computed from one of them
    direct = {k.name for k in cat if k.semantic_model and cat.semantic_model(k.semantic_model).table in PAY_TABLES}
    derived = {k.name for k in cat if set(cat.dependencies(k.name)) & direct}
    assert pay == direct | derived == {"quota", "quota_attainment", "pipeline_coverage"}
    assert all(cat.get(n).sensitivity == "pay" for n in pay)  # written in the YAML, not only inherited
    assert cat.semantic_model("quotas").sensitivity == "pay"
    assert not [i for i in cat.validate() if i.rule == "sensitivity"]


def write(folder: Path, text: str) -> Path:
    path = folder / "extra.yaml"
    path.write_text(text)
    return path


def test_a_kpi_computed_from_pay_data_inherits_it_and_is_told_to_say_so(tmp_path):
    path = write(
        tmp_path,
        "kpis:\n"
        "  - name: double_quota\n    type: derived\n    description: Twice the quota.\n"
        "    expr: quota * 2\n    input_metrics: [quota]\n" + GOVERNANCE + "  - name: double_quota_qtd\n"
        "    type: cumulative\n    description: Quarter to date.\n    input_metric: double_quota\n"
        "    grain_to_date: quarter\n" + GOVERNANCE,
    )
    cat = load_catalog(path)
    assert {"double_quota", "double_quota_qtd"} <= pay_kpis(cat.kpis, cat.semantic_models)
    issues = [i for i in cat.validate() if i.rule == "sensitivity"]
    assert [(i.level, i.subject, i.line) for i in issues] == [
        (Level.WARNING, "double_quota", 2),
        (Level.WARNING, "double_quota_qtd", 13),  # line 2 + 4 keys + 6 governance lines + 1
    ]
    assert "input quota" in issues[0].message and "input double_quota" in issues[1].message
    assert str(issues[0]).startswith("WARNING extra.yaml:2 [double_quota] (sensitivity)")


def test_a_semantic_model_over_quotas_is_pay_data_even_unmarked(tmp_path):
    path = write(
        tmp_path,
        "semantic_models:\n  - name: my_quotas\n    table: quotas\n    agg_time_dimension: period_start\n"
        "    dimensions:\n      - {name: period_start, type: time, granularity: day}\n"
        "kpis:\n  - name: my_quota\n    type: simple\n    description: Quota.\n    semantic_model: my_quotas\n"
        "    agg: sum\n    expr: amount\n" + GOVERNANCE,
    )
    cat = load_catalog(path)
    assert "my_quota" in pay_kpis(cat.kpis, cat.semantic_models)
    messages = [i.message for i in cat.validate() if i.rule == "sensitivity"]
    assert any("'my_quotas' reads 'quotas'" in m for m in messages)
    assert any("semantic model my_quotas" in m for m in messages)


def test_an_unknown_sensitivity_is_an_error_with_its_line(tmp_path):
    path = write(
        tmp_path,
        "kpis:\n  - name: secret_quota\n    type: derived\n    description: x\n    expr: quota\n"
        "    input_metrics: [quota]\n    sensitivity: secret\n" + GOVERNANCE,
    )
    errors = [i for i in load_catalog(path).validate() if i.level == Level.ERROR]
    assert len(errors) == 1 and "sensitivity" in errors[0].message and errors[0].line == 7
