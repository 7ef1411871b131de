"""Every KPI of the default catalog compiles for the warehouses revalign does not run here (Snowflake, BigQuery,
Databricks, ClickHouse, Trino), or fails for exactly the reason a capability flag states.

Compile-only: the expressions are built over unbound tables of the canonical schema, so no server and no data
is needed. What a flag says is checked both ways: a dialect marked without exact medians really cannot compile
the median KPIs as they are (else the flag is stale), and compiles them once :meth:`Engine.prepare` has made them
approximate; a dialect with every capability compiles every KPI as it is.
"""

from __future__ import annotations

import ibis
import ibis.expr.operations as ops
import pytest
from ibis.common.exceptions import IbisError

from revalign.engine.base import approximate_quantiles
from revalign.engine.warehouse import WAREHOUSES, WarehouseEngine
from revalign.kpis.query import query
from revalign.project import Project

COMPILED = [w for w in WAREHOUSES if w.name != "motherduck"]  # MotherDuck is DuckDB: the DuckDB tests cover it


@pytest.fixture(scope="module")
def expressions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ibis.Expr]:
    """Every default KPI by month, company-wide, as an unbound Ibis expression."""
    project = Project(tmp_path_factory.mktemp("dialects"), engine="duckdb://:memory:")
    names = sorted(project.catalog.kpis)
    q = query(project.tables, project.catalog, names).grain("month")
    return {name: q.to_ibis(name, bound=False) for name in names}


def _uses(expr: ibis.Expr, *kinds: type[ops.Node]) -> bool:
    """Whether ``expr`` has a node of exactly one of ``kinds`` (``ApproxMedian`` subclasses ``Median``)."""
    return any(type(node) in kinds for node in expr.op().find(kinds))


def _failures(expressions: dict[str, ibis.Expr], dialect: str, prepare) -> dict[str, str]:  # type: ignore[no-untyped-def]
    failed = {}
    for name, expr in expressions.items():
        try:
            ibis.to_sql(prepare(expr), dialect=dialect, pretty=False)
        except IbisError as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
    return failed


def test_the_catalog_is_all_there(expressions: dict[str, ibis.Expr]) -> None:
    assert len(expressions) >= 90
    assert any(_uses(e, ops.Median, ops.Quantile) for e in expressions.values())
    assert any(_uses(e, ops.IntegerRange) for e in expressions.values())


@pytest.mark.parametrize("warehouse", COMPILED, ids=[w.name for w in COMPILED])
def test_every_kpi_compiles_or_a_capability_flag_says_why(
    warehouse: type[WarehouseEngine], expressions: dict[str, ibis.Expr]
) -> None:
    medians = {n: e for n, e in expressions.items() if _uses(e, ops.Median, ops.Quantile)}
    if warehouse.exact_median:
        failed = _failures(expressions, warehouse.name, lambda e: e)
        assert failed == {}, f"{warehouse.name}: KPIs that do not compile: {failed}"
    else:
        # the flag is needed (the median KPIs do not compile as they are) and enough (approximated, all do)
        assert _failures(medians, warehouse.name, lambda e: e), f"{warehouse.name} has exact medians now"
        failed = _failures(expressions, warehouse.name, approximate_quantiles)
        assert failed == {}, f"{warehouse.name}: KPIs that do not compile even approximated: {failed}"
    assert warehouse.integer_ranges  # every dialect here compiles the day ranges of cumulative/snapshot KPIs


def test_approximation_replaces_only_medians_and_quantiles() -> None:
    t = ibis.table({"x": "float64", "g": "string"}, name="t")
    expr = t.group_by("g").aggregate(m=t.x.median(), q=t.x.quantile(0.9, where=t.x > 1), s=t.x.sum())
    out = approximate_quantiles(expr)
    assert not _uses(out, ops.Median, ops.Quantile)
    assert len(out.op().find(ops.ApproxMedian)) == 1 and len(out.op().find(ops.ApproxQuantile)) == 1
    assert len(out.op().find(ops.Sum)) == 1 and out.schema() == expr.schema()
    (quantile,) = out.op().find(ops.ApproxQuantile)
    assert quantile.where is not None and quantile.quantile.value == 0.9
