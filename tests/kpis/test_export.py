"""The MetricFlow export: the default catalog passes dbt's own semantic-manifest validations, a small catalog
exports to YAML written by hand, and what MetricFlow cannot say fails naming the KPI.

The cross-check uses ``dbt-semantic-interfaces`` (the ``crosscheck`` extra): the pydantic models and validation
rules MetricFlow itself runs. dbt builds that manifest from a project's YAML by replacing ``model: ref('x')``
with the relation it points at; :func:`manifest_documents` does the same, nothing more.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from revalign.definitions.kpis.spec import Kpi
from revalign.kpis import default_catalog, load_catalog
from revalign.kpis.export import MetricFlowExportError, export_metricflow, to_metricflow

SHOP = """
semantic_models:
  - name: orders
    description: One row per order.
    table: orders
    agg_time_dimension: ordered_at
    entities:
      - {name: order, type: primary, expr: order_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - {name: ordered_at, type: time, granularity: day}
      - {name: shipped_at, type: time}
      - {name: status}
      - {name: channel, expr: source}
  - name: customers
    table: contacts
    where: "kind = 'customer'"
    agg_time_dimension: signed_up_at
    validity: {valid_from: signed_up_at, valid_to: churned_at}
    entities:
      - {name: customer, type: primary, expr: customer_id}
    dimensions:
      - {name: signed_up_at, type: time, granularity: day}
      - {name: region}
kpis:
  - name: revenue
    label: Revenue
    type: simple
    semantic_model: orders
    agg: sum
    expr: amount
    filter: "status = 'paid' and customer__region in ('eu', 'us')"
    owner: cfo
    unit: currency
    north_star: true
    targets: [{period: 2026-Q1, value: 100}]
  - name: orders_placed
    label: Orders placed
    type: simple
    semantic_model: orders
    agg: count
    parent: revenue
    relation: driver
  - name: median_days_to_ship
    label: Median days to ship
    type: percentile
    semantic_model: orders
    agg: percentile
    percentile: 0.5
    expr: "days_between(ordered_at, shipped_at)"
    filter: "shipped_at is not null"
  - name: average_order_value
    label: Average order value
    type: ratio
    numerator: revenue
    denominator: {name: orders_placed, filter: "channel = 'web'", alias: web_orders}
  - name: revenue_per_order_k
    label: Revenue per order (thousands)
    type: derived
    expr: "revenue / orders_placed / 1000"
    input_metrics: [revenue, {name: orders_placed, offset_window: 1 month}]
  - name: revenue_qtd
    label: Revenue, quarter to date
    type: cumulative
    input_metric: revenue
    grain_to_date: quarter
  - name: signups
    label: Signups
    type: simple
    semantic_model: customers
    agg: count
  - name: signup_to_order
    label: Signup to order (30 days)
    type: conversion
    entity: customer
    base_metric: signups
    conversion_metric: {name: orders_placed, filter: "status = 'paid'"}
    window: 30 days
    filter: "region = 'eu'"
  - name: active_customers
    label: Active customers (end of period)
    type: snapshot
    semantic_model: customers
    agg: count_distinct
    expr: customer_id
    at: period_end
"""

# Written by hand from docs/metricflow.md's mapping, not produced by the exporter.
EXPECTED_SEMANTIC_MODELS = """
semantic_models:
  - name: orders
    description: One row per order.
    model: "ref('orders')"
    defaults: {agg_time_dimension: ordered_at}
    entities:
      - {name: order, type: primary, expr: order_id}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - {name: ordered_at, type: time, type_params: {time_granularity: day}}
      - {name: shipped_at, type: time, type_params: {time_granularity: second}}   # no grain declared
      - {name: status, type: categorical}
      - {name: channel, type: categorical, expr: source}
    measures:
      - {name: revenue, agg: sum, expr: amount}
      - {name: orders_placed, agg: count, expr: "1"}          # revalign counts rows
      - name: median_days_to_ship
        agg: percentile
        expr: "DATE_DIFF('DAY', CAST(ordered_at AS DATE), CAST(shipped_at AS DATE))"
        agg_params: {percentile: 0.5, use_discrete_percentile: false}
      # MetricFlow ignores a conversion measure's filter: the filtered input is a measure of its own
      - name: signup_to_order_conversion_events
        agg: count
        expr: "CASE WHEN (status = 'paid') THEN 1 END"
        description: orders_placed rows (with their filters), as conversion events of signup_to_order.
    config: {meta: {revalign: {table: orders}}}
  - name: customers
    model: "ref('customers')"                                   # a generated model: contacts where kind = customer
    defaults: {agg_time_dimension: signed_up_at}
    entities:
      - {name: customer, type: primary, expr: customer_id}
    dimensions:
      - {name: signed_up_at, type: time, type_params: {time_granularity: day}}
      - {name: region, type: categorical}
    measures:
      - {name: signups, agg: count, expr: "1"}
    config:
      meta:
        revalign:
          table: contacts
          where: "kind = 'customer'"
          validity: {valid_from: signed_up_at, valid_to: churned_at}
  - name: customers_daily
    description: customers rows, one per day each is valid (generated by revalign for snapshot KPIs).
    model: "ref('customers_daily')"
    defaults: {agg_time_dimension: valid_at_start_of}
    primary_entity: customers_daily
    entities:
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - {name: region, type: categorical}
      - {name: valid_on, type: time, description: Valid at its end., type_params: {time_granularity: day}}
      - name: valid_at_start_of
        type: time
        description: Valid at its start.
        type_params: {time_granularity: day}
    measures:
      - name: active_customers
        agg: count_distinct
        expr: customer_id
        agg_time_dimension: valid_on
        non_additive_dimension: {name: valid_on, window_choice: max}   # at: period_end
    config:
      meta:
        revalign:
          table: customers_daily
          validity: {valid_from: signed_up_at, valid_to: churned_at}
"""

EXPECTED_METRICS = """
metrics:
  - name: revenue
    label: Revenue
    type: simple
    type_params: {measure: {name: revenue, fill_nulls_with: 0}}   # additive: a missing input period is 0
    filter: "{{ Dimension('order__status') }} = 'paid' AND {{ Dimension('customer__region') }} IN ('eu', 'us')"
    config:
      meta:
        revalign:
          unit: currency
          owner: cfo
          north_star: true
          targets: [{period: 2026-Q1, value: 100.0}]
          pack: shop
  - name: orders_placed
    label: Orders placed
    type: simple
    type_params: {measure: {name: orders_placed, fill_nulls_with: 0}}   # additive: a missing input period is 0
    config: {meta: {revalign: {parent: revenue, relation: driver, pack: shop}}}
  - name: median_days_to_ship
    label: Median days to ship
    type: simple
    type_params: {measure: median_days_to_ship}
    filter: "NOT {{ TimeDimension('order__shipped_at', 'second') }} IS NULL"
    config: {meta: {revalign: {type: percentile, pack: shop}}}
  - name: average_order_value
    label: Average order value
    type: ratio
    type_params:
      numerator: {name: revenue}
      denominator: {name: orders_placed, filter: "{{ Dimension('order__channel') }} = 'web'", alias: web_orders}
    config: {meta: {revalign: {pack: shop}}}
  - name: revenue_per_order_k
    label: Revenue per order (thousands)
    type: derived
    type_params:
      expr: CAST(revenue AS DOUBLE) / NULLIF(orders_placed, 0) / 1000   # float division; x / 0 gives no value
      metrics: [{name: revenue}, {name: orders_placed, offset_window: 1 month}]
    config: {meta: {revalign: {pack: shop}}}
  - name: revenue_qtd
    label: Revenue, quarter to date
    type: cumulative
    type_params:
      measure: {name: revenue, fill_nulls_with: 0}
      cumulative_type_params: {grain_to_date: quarter, period_agg: PERIOD_AGG}
    # the input KPI's filter, on the metric: MetricFlow drops a cumulative metric's measure-input filter
    filter: "{{ Dimension('order__status') }} = 'paid' AND {{ Dimension('customer__region') }} IN ('eu', 'us')"
    config: {meta: {revalign: {input_metric: revenue, pack: shop}}}
  - name: signups
    label: Signups
    type: simple
    type_params: {measure: {name: signups, fill_nulls_with: 0}}   # additive: a missing input period is 0
    config: {meta: {revalign: {pack: shop}}}
  - name: signup_to_order
    label: Signup to order (30 days)
    type: conversion
    type_params:
      conversion_type_params:
        entity: customer
        calculation: conversion_rate
        base_measure: {name: signups, filter: "{{ Dimension('customer__region') }} = 'eu'"}   # the KPI's filter
        conversion_measure: {name: signup_to_order_conversion_events}
        window: 30 days
    config: {meta: {revalign: {base_metric: signups, conversion_metric: orders_placed, pack: shop}}}
  - name: active_customers
    label: Active customers (end of period)
    type: simple
    type_params: {measure: active_customers}
    config: {meta: {revalign: {type: snapshot, at: period_end, pack: shop}}}
"""


def _catalog(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    cat = load_catalog(path, include_default=False)
    assert not cat.load_issues, cat.load_issues
    return cat


def test_small_catalog_matches_hand_written_yaml(tmp_path: Path) -> None:
    files = to_metricflow(_catalog(tmp_path, SHOP)).files()
    got_models = yaml.safe_load(files["semantic_models.yml"])
    got_metrics = yaml.safe_load(files["metrics.yml"])
    assert got_models["version"] == 2 and got_metrics["version"] == 2
    assert got_models["semantic_models"] == yaml.safe_load(EXPECTED_SEMANTIC_MODELS)["semantic_models"]
    # a spec with MetricFlow's period_agg key evaluates its default (first); before it, the end of the period
    period_agg = "first" if hasattr(Kpi, "cumulative_period_agg") else "last"
    expected = yaml.safe_load(EXPECTED_METRICS.replace("PERIOD_AGG", period_agg))["metrics"]
    assert got_metrics["metrics"] == expected
    assert files["customers.sql"].endswith("select * from {{ ref('contacts') }}\nwhere kind = 'customer'\n")
    daily = files["customers_daily.sql"]
    assert "from {{ ref('customers') }} as t" in daily
    assert "on spine.date_day >= cast(t.signed_up_at as date)" in daily
    assert "(t.churned_at is null or spine.date_day < cast(t.churned_at as date))" in daily
    spine = yaml.safe_load(files["models.yml"])["models"][0]
    assert spine["name"] == "metricflow_time_spine"
    assert spine["time_spine"] == {"standard_granularity_column": "date_day"}
    written = export_metricflow(_catalog(tmp_path, SHOP), tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(files)
    assert (tmp_path / "out" / "metrics.yml").read_text(encoding="utf-8") == files["metrics.yml"]


@pytest.mark.parametrize(
    ("kpi_filter", "message"),
    [
        ("amount > 100", "uses 'amount', which is not a dimension or entity reachable from semantic model 'orders'"),
        ("nosuch__region = 'eu'", "uses 'nosuch__region', which is not a dimension or entity"),
        ("{{ Metric('revenue') }} > 1", "uses Metric(), which the export cannot translate"),
    ],
)
def test_unsupported_filters_fail_naming_the_kpi(tmp_path: Path, kpi_filter: str, message: str) -> None:
    original = "filter: \"status = 'paid' and customer__region in ('eu', 'us')\""
    assert original in SHOP
    cat = _catalog(tmp_path, SHOP.replace(original, f"filter: {kpi_filter!r}"))
    with pytest.raises(MetricFlowExportError, match=r"^KPI 'revenue' \(shop\.yaml:\d+\)") as err:
        to_metricflow(cat)
    assert message in str(err.value)


def test_conversion_input_filter_through_a_join_fails_naming_the_kpi(tmp_path: Path) -> None:
    text = SHOP.replace(
        """{name: orders_placed, filter: "status = 'paid'"}""",
        """{name: orders_placed, filter: "customer__region = 'eu'"}""",
    )
    with pytest.raises(
        MetricFlowExportError, match=r"^KPI 'signup_to_order' \(shop\.yaml:\d+\).*'customer__region'.*join"
    ):
        to_metricflow(_catalog(tmp_path, text))


def test_reserved_words_are_renamed_everywhere(tmp_path: Path) -> None:
    extra = """
  - name: user
    label: Users
    type: simple
    semantic_model: customers
    agg: count
  - name: users_per_order
    label: Users per order
    type: ratio
    numerator: user
    denominator: orders_placed
"""
    files = to_metricflow(_catalog(tmp_path, SHOP + extra)).files()
    metrics = {m["name"]: m for m in yaml.safe_load(files["metrics.yml"])["metrics"]}
    assert "user" not in metrics
    assert metrics["user_kpi"]["type_params"]["measure"] == {"name": "user_kpi", "fill_nulls_with": 0}
    assert metrics["user_kpi"]["config"]["meta"]["revalign"]["name"] == "user"
    assert metrics["users_per_order"]["type_params"]["numerator"] == {"name": "user_kpi"}
    models = {m["name"]: m for m in yaml.safe_load(files["semantic_models.yml"])["semantic_models"]}
    assert "user_kpi" in {m["name"] for m in models["customers"]["measures"]}


def test_measure_sql_computes_what_revalign_computes() -> None:
    """days_between and hours_between rendered for DuckDB, run on rows whose answer is known by hand."""
    from revalign.definitions.kpis.spec import SemanticModel
    from revalign.kpis.export import _Exporter

    sm = SemanticModel(name="x", table="x")
    ex = _Exporter(default_catalog(), "duckdb")
    days = ex.sql("days_between(a, b)", lambda n: ex._column_sql(sm, n))
    hours = ex.sql("hours_between(a, b)", lambda n: ex._column_sql(sm, n))
    rows = pd.DataFrame(
        {
            # 23:30 → 00:10 next day: 1 calendar day, 40 minutes = 0.6667 hours
            "a": [dt.datetime(2026, 1, 1, 23, 30), dt.datetime(2026, 3, 1, 0, 0)],
            # 2026-03-01 → 2026-03-31 12:00: 30 calendar days, 30.5 × 24 = 732 hours
            "b": [dt.datetime(2026, 1, 2, 0, 10), dt.datetime(2026, 3, 31, 12, 0)],
        }
    )
    con = duckdb.connect()
    con.register("x", rows)
    got = con.sql(f"select {days} as d, {hours} as h from x").df()
    assert got["d"].tolist() == [1, 30]
    assert got["h"].tolist() == pytest.approx([40 / 60, 732.0])
    for dialect, spelling in (("postgres", "DATE_PART('epoch'"), ("spark", "UNIX_TIMESTAMP(")):
        assert spelling in _Exporter(default_catalog(), dialect).sql(
            "hours_between(a, b)", lambda n: ex._column_sql(sm, n)
        )


def test_exporting_first_leaves_ibis_postgres_sql_valid() -> None:
    """Rendering SQL with sqlglot before Ibis loaded its dialect rewrites would freeze sqlglot's Postgres
    generator without them (DATE_FROM_PARTS instead of MAKE_DATE): export first, then compile, in a fresh process."""
    import subprocess
    import sys

    code = (
        "from revalign.kpis import default_catalog\n"
        "from revalign.kpis.export import to_metricflow\n"
        "to_metricflow(default_catalog(), dialect='postgres')\n"
        "import ibis\n"
        "t = ibis.table({'d': 'timestamp'}, name='t')\n"
        "print(ibis.to_sql(t.select(m=ibis.date(t.d.year(), t.d.month(), 1)), dialect='postgres'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "MAKE_DATE" in out.stdout.upper(), out.stdout


def _render_dbt(sql: str) -> str:
    """The few Jinja calls the generated models use, as plain DuckDB SQL (what dbt would render)."""
    sql = re.sub(r"\{\{ config\(.*?\) \}\}", "", sql)
    sql = re.sub(r"\{\{ ref\('(\w+)'\) \}\}", r"\1", sql)
    return re.sub(r"\{\{ dbt\.dateadd\('day', 1, '([\w.]+)'\) \}\}", r"(\1 + 1)", sql)


def test_snapshot_model_gives_revalign_snapshot_values(tmp_path: Path) -> None:
    """The generated daily model + MetricFlow's non-additive rule (rows at the period's first ``valid_at_start_of``)
    give revalign's snapshot: MRR of lines valid at the start of each month."""
    from revalign.engine import connect
    from revalign.kpis import evaluate
    from revalign.model.tables import TABLES
    from revalign.project import Project

    subs = pd.DataFrame(
        {
            "subscription_id": ["s1", "s2", "s3"],
            "account_id": ["a1", "a2", "a3"],
            "opportunity_id": [None, None, None],
            "start_date": [dt.date(2026, 1, 1), dt.date(2026, 1, 15), dt.date(2026, 2, 1)],
            "end_date": [dt.date(2026, 3, 1), None, dt.date(2026, 2, 2)],
            "mrr": [100.0, 50.0, 7.0],
            "plan": ["a", "b", "c"],
        }
    )
    subs = subs[[c for c in TABLES["subscriptions"].schema.names if c in subs.columns]]
    engine = connect("duckdb://:memory:")
    engine.write("subscriptions", subs, schema=TABLES["subscriptions"].schema)
    project = Project(tmp_path, engine=engine)
    ours = evaluate(project.tables, project.catalog, "mrr", grain="month", start="2026-02", end="2026-04")
    files = to_metricflow(project.catalog).files()
    con = duckdb.connect()
    con.register("subscriptions", subs)
    con.execute(
        "create table metricflow_time_spine as select cast(range as date) as date_day "
        "from range(date '2025-12-01', date '2030-01-01', interval 1 day)"
    )
    con.execute("create view subscriptions_daily as " + _render_dbt(files["subscriptions_daily.sql"]))
    measure = next(
        m
        for sm in yaml.safe_load(files["semantic_models.yml"])["semantic_models"]
        if sm["name"] == "subscriptions_daily"
        for m in sm["measures"]
        if m["name"] == "mrr"
    )
    day, choice = measure["non_additive_dimension"]["name"], measure["non_additive_dimension"]["window_choice"]
    assert (day, choice) == ("valid_at_start_of", "min")
    theirs = con.sql(
        f"""with d as (select *, date_trunc('month', {day}) as month from subscriptions_daily),
                 firsts as (select month, {choice}({day}) as pick from d group by month)
            select d.month, sum({measure["expr"]}) as value from d join firsts f
              on d.month = f.month and d.{day} = f.pick group by d.month order by d.month"""
    ).df()
    # by hand, the state at the end of the day before each month starts:
    # Feb 1 (end of Jan 31): s1 + s2 = 150 (s3 starts on Feb 1, not yet);
    # Mar 1 (end of Feb 28): s1 + s2 = 150 (s1's end_date Mar 1 is its first day no longer valid; s3 ended Feb 2);
    # Apr 1 (end of Mar 31): s2 = 50
    assert ours["value"].tolist() == [150.0, 150.0, 50.0]
    got = dict(zip(pd.to_datetime(theirs["month"]).dt.date, theirs["value"], strict=True))
    assert [got[dt.date(2026, m, 1)] for m in (2, 3, 4)] == [150.0, 150.0, 50.0]
    # s2 is still open: days run to today, as revalign's snapshot periods do (not to the end of the time spine)
    assert max(got) == dt.date.today().replace(day=1)
    assert max(got) == max(evaluate(project.tables, project.catalog, "mrr", grain="month")["period_start"])


def test_generated_dbt_models_select_the_rows_revalign_uses() -> None:
    """The generated models, run on the tiny fixture: a model's ``where`` and revalign's views as SQL."""
    from revalign.engine import connect
    from revalign.model.views import VIEWS
    from tests.kpis.fixtures.tables import fixture_frames, load_fixture

    frames = fixture_frames("tiny")
    files = to_metricflow(default_catalog(), dialect="duckdb").files()
    con = duckdb.connect()
    for name, frame in frames.items():
        con.register(name, frame)

    def run(model: str) -> pd.DataFrame:
        return con.sql(_render_dbt(files[f"{model}.sql"])).df()

    ledger = frames["ledger"]
    expected = ledger[(ledger.entity_type == "lead") & (ledger.kind == "lifecycle")]
    assert len(expected) > 0
    assert sorted(run("lifecycle_events")["event_id"]) == sorted(expected["event_id"])

    tp = frames["touchpoints"]
    facts = run("lead_facts").set_index("lead_id").sort_index()
    assert sorted(facts.index) == sorted(frames["leads"]["lead_id"])
    touched = tp.groupby("lead_id")["occurred_at"]
    assert (facts["touches"] == tp.groupby("lead_id").size().reindex(facts.index).fillna(0)).all()
    firsts = touched.min().reindex(facts.index)
    assert (facts["first_touch_at"].eq(firsts) | (facts["first_touch_at"].isna() & firsts.isna())).all()
    sales = tp[tp.touch_type == "sales"].groupby("lead_id")["occurred_at"].min().reindex(facts.index)
    assert (facts["first_sales_touch_at"].eq(sales) | (facts["first_sales_touch_at"].isna() & sales.isna())).all()

    engine = connect("duckdb://:memory:")
    load_fixture(engine)
    ours = engine.execute(VIEWS["mrr_movements"](engine.table)).sort_values(["account_id", "date"])
    theirs = run("mrr_movements").sort_values(["account_id", "date"])
    assert len(ours) > 0
    assert ours["movement"].tolist() == theirs["movement"].tolist()
    assert ours["amount"].tolist() == pytest.approx(theirs["amount"].tolist())


def test_every_kpi_becomes_a_metric_with_its_governance() -> None:
    cat = default_catalog()
    project = to_metricflow(cat)
    metrics = {m["config"]["meta"]["revalign"].get("name", m["name"]): m for m in project.metrics}
    assert set(metrics) == set(cat.kpis)
    for name, metric in metrics.items():  # SQL reserved words get a suffix (MetricFlow does not quote names)
        assert metric["name"] == (f"{name}_kpi" if name in ("references", "user", "order", "select") else name)
    for kpi in cat:
        meta = metrics[kpi.name]["config"]["meta"]["revalign"]
        assert meta.get("owner") == kpi.owner and meta.get("parent") == kpi.parent
        assert meta.get("direction") == kpi.direction and meta.get("unit") == kpi.unit
        assert len(meta.get("targets", [])) == len(kpi.targets)
        assert [r["effective_from"] for r in meta.get("revisions", [])] == [
            r.effective_from.isoformat() for r in kpi.revisions
        ]
        assert metrics[kpi.name]["label"] == kpi.label
    assert metrics[cat.north_star]["config"]["meta"]["revalign"]["north_star"] is True


def test_cli_export_writes_the_project(tmp_path: Path) -> None:
    from revalign.interfaces.cli import app

    runner = CliRunner()
    out = runner.invoke(
        app, ["kpi", "export", "--format", "metricflow", "--out", str(tmp_path / "mf"), "--project", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    names = {p.name for p in (tmp_path / "mf").iterdir()}
    assert {"semantic_models.yml", "metrics.yml", "models.yml", "metricflow_time_spine.sql"} <= names
    bad = runner.invoke(app, ["kpi", "export", "--format", "lookml", "--project", str(tmp_path)])
    assert bad.exit_code != 0 and "Known export formats: metricflow" in str(bad.exception)


# -- cross-check with dbt-semantic-interfaces ----------------------------------------------------------------


def manifest_documents(files: dict[str, str], schema: str = "analytics") -> str:
    """The exported dbt YAML as MetricFlow's manifest documents: ``model: ref('x')`` becomes the relation."""
    docs: list[dict[str, Any]] = []
    for sm in yaml.safe_load(files["semantic_models.yml"])["semantic_models"]:
        sm = dict(sm)
        alias = re.fullmatch(r"ref\('(\w+)'\)", sm.pop("model")).group(1)  # type: ignore[union-attr]
        docs.append({"semantic_model": {**sm, "node_relation": {"alias": alias, "schema_name": schema}}})
    docs += [{"metric": m} for m in yaml.safe_load(files["metrics.yml"])["metrics"]]
    spines = []
    for model in yaml.safe_load(files["models.yml"])["models"]:
        if "time_spine" in model:
            col = model["time_spine"]["standard_granularity_column"]
            grain = next(c["granularity"] for c in model["columns"] if c["name"] == col)
            relation = {"alias": model["name"], "schema_name": schema}
            spines.append({"node_relation": relation, "primary_column": {"name": col, "time_granularity": grain}})
    docs.append({"project_configuration": {"time_spines": spines}})
    return yaml.safe_dump_all(docs, sort_keys=False)


@pytest.fixture(scope="module")
def manifest():  # type: ignore[no-untyped-def]
    pytest.importorskip("dbt_semantic_interfaces", reason="install the crosscheck extra: pip install -e .[crosscheck]")
    from dbt_semantic_interfaces.parsing.dir_to_model import parse_yaml_files_to_validation_ready_semantic_manifest
    from dbt_semantic_interfaces.parsing.objects import YamlConfigFile

    text = manifest_documents(to_metricflow(default_catalog()).files())
    built = parse_yaml_files_to_validation_ready_semantic_manifest(
        [YamlConfigFile(filepath="revalign_export.yml", contents=text, url=None)], raise_issues_as_exceptions=False
    )
    assert not built.issues.has_blocking_issues, [i.as_readable_str() for i in built.issues.all_issues]
    return built.semantic_manifest


def test_default_catalog_passes_metricflow_validations(manifest) -> None:  # type: ignore[no-untyped-def]
    from dbt_semantic_interfaces.implementations.semantic_manifest import PydanticSemanticManifest
    from dbt_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator

    assert isinstance(manifest, PydanticSemanticManifest)
    exported = {m.config.meta["revalign"].get("name", m.name) for m in manifest.metrics if m.config}
    assert exported >= set(default_catalog().kpis)
    results = SemanticManifestValidator[PydanticSemanticManifest]().validate_semantic_manifest(manifest)
    assert not results.errors, [i.as_readable_str() for i in results.errors]
    assert not results.future_errors, [i.as_readable_str() for i in results.future_errors]
    # the only warnings: DSI's own transformation adds a metric input next to each legacy measure input, and
    # timestamps exported at grain `second` (so filters compare exact times, as revalign does) under a daily spine
    known = ("should not have both", "configuring a time spine at or below the smallest time dimension granularity")
    others = [w.as_readable_str() for w in results.warnings if not any(k in w.as_readable_str() for k in known)]
    assert not others, others


def test_filter_references_exist_in_the_manifest(manifest) -> None:  # type: ignore[no-untyped-def]
    """DSI parses filters but does not look names up (MetricFlow does at query time): check every Jinja reference
    names an element of a semantic model that the entity path reaches."""
    models = list(manifest.semantic_models)
    primary = {
        m.name: (
            {e.name for e in m.entities if e.type.value in ("primary", "unique", "natural")}
            | ({m.primary_entity} if m.primary_entity else set())
        )
        for m in models
    }
    checked = 0
    texts = []
    for metric in manifest.metrics:
        conv = metric.type_params.conversion_type_params
        inputs = [metric.type_params.measure, *([conv.base_measure, conv.conversion_measure] if conv else [])]
        for f in [metric.filter, *[i.filter for i in metric.input_metrics], *[i.filter for i in inputs if i]]:
            if f is not None:
                texts += [w.where_sql_template for w in f.where_filters]
    for text in texts:
        for kind, name in re.findall(r"\{\{\s*(Dimension|TimeDimension|Entity)\('([\w]+)'", text):
            *links, element = name.split("__")
            if kind == "Entity":
                assert any(element in {e.name for e in m.entities} for m in models), text
            else:
                owners = [m for m in models if element in {d.name for d in m.dimensions}]
                assert any(links[-1] in primary[m.name] for m in owners), f"{name} in {text}"
            checked += 1
    assert checked > 40


# -- end to end: dbt parses and runs the export, MetricFlow answers, and agrees with revalign ---------------------


@pytest.mark.slow
def test_metricflow_answers_what_revalign_answers(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """dbt Core 1.11 + dbt-duckdb + dbt-metricflow cannot share this environment (they need another DuckDB), so
    they live in a separate virtualenv named by ``REVALIGN_DBT_VENV`` (``python -m venv V && V/bin/pip install
    "dbt-core>=1.11,<1.12" dbt-duckdb==1.11.1 dbt-metricflow==0.15.0``). The exported project is parsed and run
    by dbt on the simulator's data (scale s) and queried by month with ``mf query``; every value must equal
    revalign's on the periods both report (docs/metricflow.md lists where MetricFlow reports more periods)."""
    import os
    import subprocess

    venv = os.environ.get("REVALIGN_DBT_VENV")
    if not venv or not (Path(venv) / "bin" / "mf").exists():
        pytest.skip("set REVALIGN_DBT_VENV to a virtualenv with dbt-core 1.11, dbt-duckdb and dbt-metricflow")
    sim_project = request.getfixturevalue("sim_project")  # the simulator's company, only when dbt is there
    from revalign.kpis import evaluate
    from revalign.kpis.export import _Exporter

    project_dir, data = tmp_path / "dbt", tmp_path / "data"
    (project_dir / "models" / "canonical").mkdir(parents=True)
    data.mkdir()
    import pyarrow.parquet as pq

    for name in sim_project.engine.list_tables():
        pq.write_table(sim_project.engine.to_pyarrow(sim_project.engine.table(name)), data / f"{name}.parquet")
        (project_dir / "models" / "canonical" / f"{name}.sql").write_text(
            f"select * from read_parquet('{data / name}.parquet')\n"
        )
    (project_dir / "dbt_project.yml").write_text(
        "name: revalign_e2e\nversion: '1.0.0'\nconfig-version: 2\nprofile: revalign_e2e\n"
        "models:\n  revalign_e2e:\n    +materialized: table\n"
    )
    (project_dir / "profiles.yml").write_text(
        "revalign_e2e:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {tmp_path / 'e2e.duckdb'}\n"
    )
    export_metricflow(default_catalog(), project_dir / "models" / "semantic", dialect="duckdb")
    env = {**os.environ, "DBT_PROFILES_DIR": str(project_dir)}

    def run(*args: str) -> None:
        done = subprocess.run(args, cwd=project_dir, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    run(f"{venv}/bin/dbt", "parse", "--no-partial-parse")
    run(f"{venv}/bin/dbt", "run")
    # one KPI per kind; not the 1-2 day SLA conversions: MetricFlow compares conversion times by day
    names = [
        "new_revenue",
        "win_rate",
        "mql_to_sql_rate",
        "onboarding_rate",
        "mrr",
        "net_revenue_retention",
        "new_revenue_ytd",
        "mqls_trailing_90d",
        "speed_to_lead_hours",
        "ltv_to_cac",
        "references",
    ]
    names = [n for n in names if n in default_catalog().kpis]
    ours = evaluate(sim_project.tables, default_catalog(), names, grain="month", definitions="current")
    for name in names:
        metric = _Exporter.metric_name(name)
        out = tmp_path / f"{metric}.csv"
        run(f"{venv}/bin/mf", "query", "--metrics", metric, "--group-by", "metric_time__month", "--csv", str(out))
        theirs = pd.read_csv(out, parse_dates=["metric_time__month"]).dropna(subset=[metric])
        theirs = dict(zip(theirs["metric_time__month"].dt.date, theirs[metric], strict=True))
        mine = ours[ours.kpi == name]
        assert len(mine) > 0, name
        for period, value in zip(mine["period_start"], mine["value"], strict=True):
            assert period in theirs, f"{name}: MetricFlow has no value for {period}"
            assert theirs[period] == pytest.approx(value, rel=1e-9), f"{name} {period}"
