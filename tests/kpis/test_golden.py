"""SQL golden files: the SQL ``explain`` prints for representative KPIs must not change by accident.

One case per KPI type and compiler path (simple sum/count/count_distinct/avg, percentile, a filter through an
entity join, a model with its own ``where``, a derived view, ratio, derived of derived, cumulative all-time,
grain-to-date and trailing window, conversion, snapshot, a revised KPI), with and without dimensions and extra
filters, each compiled for DuckDB, PostgreSQL and Spark. ``explain`` compiles against unbound tables, so no data and no
database is needed (Spark only needs pyspark importable, not a session).

When a change to the compiler is meant to change the SQL, rewrite the files with one command and review the
diff in git::

    REVALIGN_UPDATE_GOLDEN=1 python -m pytest tests/kpis/test_golden.py

(also described in docs/metricflow.md, next to the other catalog export).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import NamedTuple

import pytest

from revalign.kpis import load_catalog
from revalign.kpis.query import query
from revalign.project import Project

GOLDEN = Path(__file__).resolve().parent / "golden"
DIALECTS = ("duckdb", "postgres", "pyspark")
UPDATE = os.environ.get("REVALIGN_UPDATE_GOLDEN") == "1"
HOW_TO_UPDATE = "REVALIGN_UPDATE_GOLDEN=1 python -m pytest tests/kpis/test_golden.py"


class Case(NamedTuple):
    id: str
    kpi: str
    grain: str = "month"
    by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()


CASES = (
    Case("simple_sum_filter_revised", "new_revenue"),  # two definitions (revisions) → UNION ALL
    Case("simple_count_by_channel", "new_leads", by=("channel",)),
    Case("simple_count_distinct_by_segment", "new_customers", "quarter", ("segment",)),
    Case("simple_avg_days_between", "sales_cycle_days_mean"),
    Case("simple_filter_through_entity", "marketing_influenced_pipeline"),
    Case("simple_model_where_by_reason", "mqls_rejected", by=("reason",)),
    Case("simple_view_mrr_movements", "churned_mrr", "quarter"),
    Case("percentile_median_by_segment", "sales_cycle_days_median", "quarter", ("segment",)),
    Case("percentile_view_lead_facts", "speed_to_lead_hours", "week"),
    Case("ratio", "win_rate"),
    Case("ratio_by_team_two_hops_where", "win_rate", "quarter", ("team",), ("segment = 'smb'",)),
    Case("derived", "pipeline_velocity"),
    Case("derived_of_derived_with_snapshots", "ltv_to_cac"),
    Case("cumulative_all_time", "golden_revenue_all_time"),
    Case("cumulative_grain_to_date_by_region", "golden_revenue_qtd", by=("region",)),
    Case("cumulative_window_by_segment", "golden_revenue_trailing_90d", "quarter", ("segment",)),
    Case("conversion", "mql_to_sql_rate"),
    Case("conversion_by_channel", "lead_to_opportunity_rate", "quarter", ("channel",)),
    Case("snapshot_sum", "mrr"),
    Case("snapshot_count_filter_by_team", "sales_headcount", "quarter", ("team",)),
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    # an in-memory engine that explain never queries: compiling uses unbound tables
    return Project(tmp_path_factory.mktemp("golden"), engine="duckdb://:memory:")


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog(GOLDEN / "catalog.yaml")


def explain(project: Project, catalog, case: Case, dialect: str) -> str:  # type: ignore[no-untyped-def]
    q = query(project.tables, catalog, case.kpi).grain(case.grain).by(*case.by).where(*case.where)
    return q.explain(engine=dialect).rstrip() + "\n"


def golden_path(case: Case, dialect: str) -> Path:
    return GOLDEN / f"{case.id}.{dialect}.sql"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sql_matches_golden_file(project: Project, catalog, case: Case, dialect: str) -> None:  # type: ignore[no-untyped-def]
    sql = explain(project, catalog, case, dialect)
    path = golden_path(case, dialect)
    if UPDATE:
        path.write_text(sql, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.name}; create it with: {HOW_TO_UPDATE}"
    expected = path.read_text(encoding="utf-8")
    if sql != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), sql.splitlines(keepends=True), "golden", "now", n=2
            )
        )
        pytest.fail(
            f"the {dialect} SQL of KPI {case.kpi!r} (case {case.id}) changed. If the change is intended, "
            f"regenerate every golden file with:\n    {HOW_TO_UPDATE}\nand review the diff in git. Diff "
            f"(first 60 lines):\n" + "".join(diff.splitlines(keepends=True)[:60])
        )


def test_every_golden_file_belongs_to_a_case() -> None:
    """A renamed or removed case must not leave a stale file that nothing checks any more."""
    expected = {golden_path(c, d).name for c in CASES for d in DIALECTS}
    present = {p.name for p in GOLDEN.glob("*.sql")}
    assert present <= expected, f"stale golden files {sorted(present - expected)}; delete them"


def test_cases_cover_every_kpi_type(catalog) -> None:  # type: ignore[no-untyped-def]
    from revalign.definitions.kpis.spec import KPI_TYPES

    covered = {catalog.get(c.kpi).type for c in CASES}
    assert covered == set(KPI_TYPES), f"KPI types without a golden case: {set(KPI_TYPES) - covered}"


def test_explain_is_deterministic(project: Project, catalog) -> None:  # type: ignore[no-untyped-def]
    """Golden files only work if compiling twice gives the same text (no generated names that drift)."""
    case = next(c for c in CASES if c.id == "conversion_by_channel")
    assert explain(project, catalog, case, "duckdb") == explain(project, catalog, case, "duckdb")
