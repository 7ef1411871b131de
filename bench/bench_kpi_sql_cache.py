"""Whole KPI catalog for the company against a DuckDB floor: compiled fresh, and with its SQL from the cache.

Issue #20 asks for the whole catalog (every default KPI, month grain, whole company) within 3× of a floor measured
in the same run: straight SQL through the ``duckdb`` driver on the same file, one month-grain aggregate
(``count(*)`` and the sum of every numeric column) per canonical table and each of its time columns, which is
about the least any engine must do to read every table a catalog reads once per time column. And at scale s, no
slower than the plain pandas reference implementations of every KPI (tests/reference/kpis.py).

revalign is measured three ways, each run in a fresh process (imports and the data-version query included, as a
CLI command pays them):

- **no SQL cache**: build and compile the stacked Ibis expression, then run it (the path before the cache);
- **cold**: the same with an empty compiled-SQL file (compile, store the SQL, run the SQL text);
- **warm**: the SQL read from the file a previous process wrote (:mod:`revalign.kpis.sql_cache`): no Ibis
  expression is built or compiled.
"""

from __future__ import annotations

from pathlib import Path

from bench.bench_kpis import _db, prepare

TITLE = "KPI catalog vs a DuckDB floor: compiled SQL cached across processes"
WORK = Path(__file__).resolve().parent / "_work"


def floor_queries() -> list[str]:
    """One month-grain ``count(*)`` + sums per canonical table and time column (the floor's SQL)."""
    from revalign.model.tables import TABLES

    out = []
    for name, spec in sorted(TABLES.items()):
        schema = spec.schema
        times = [c for c, t in schema.items() if t.is_temporal()]
        sums = [f'sum("{c}") AS "sum_{c}"' for c, t in schema.items() if t.is_integer() or t.is_floating()]
        for col in times:
            aggs = ", ".join(["count(*) AS n", *sums])
            out.append(f'SELECT date_trunc(\'month\', "{col}") AS month, {aggs} FROM "{name}" GROUP BY 1')
    return out


def duckdb_floor(scale: str, queries: list[str]) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(_db(scale)), read_only=True)
    rows = sum(len(con.sql(q).fetchall()) for q in queries)
    con.close()
    return {"rows": rows, "queries": len(queries)}


def revalign_company(scale: str, cache_file: str | None, fresh: bool) -> dict[str, float]:
    """The whole catalog, month grain, whole company; ``cache_file``: the compiled-SQL file (``fresh``: emptied
    first), ``None``: no SQL cache."""
    from revalign.engine import connect
    from revalign.kpis import default_catalog, query
    from revalign.kpis.sql_cache import SqlCache
    from revalign.model.access import Tables

    if cache_file is not None and fresh:
        Path(cache_file).unlink(missing_ok=True)
    cache = SqlCache(Path(cache_file)) if cache_file is not None else None
    engine = connect(f"duckdb://{_db(scale)}")
    catalog = default_catalog()
    q = query(Tables(engine), catalog, sorted(catalog.kpis)).skipping_unreachable().with_sql_cache(cache)
    rows = len(q.to_pandas())
    engine.close()
    hits = cache.disk_hits + cache.hits if cache is not None else 0
    return {"rows": rows, "hits": hits}


def main(scale: str = "l", runs: int = 3) -> str:
    from bench.measure import measure

    queries = floor_queries()
    lines = []
    for sc in dict.fromkeys([scale, "s"]):
        prepare(sc)
        warm_file = str(WORK / f"sql-cache-{sc}.sqlite")
        # a previous process compiled the request (its own process: a peak here would carry into every child)
        measure("prime", "bench.bench_kpi_sql_cache:revalign_company", sc, warm_file, True, runs=1)
        floor = measure("DuckDB floor", "bench.bench_kpi_sql_cache:duckdb_floor", sc, queries, runs=runs)
        plain = measure("no SQL cache", "bench.bench_kpi_sql_cache:revalign_company", sc, None, False, runs=runs)
        cold_file = str(WORK / f"sql-cache-{sc}-cold.sqlite")
        cold = measure("cold", "bench.bench_kpi_sql_cache:revalign_company", sc, cold_file, True, runs=runs)
        warm = measure("warm", "bench.bench_kpi_sql_cache:revalign_company", sc, warm_file, False, runs=runs)
        assert warm.result["hits"] == 1 and cold.result["hits"] == 0, (warm.result, cold.result)
        assert plain.result["rows"] == cold.result["rows"] == warm.result["rows"]
        base = measure("pandas reference", "bench.bench_kpis:pandas_refresh", sc, runs=runs) if sc == "s" else None
        lines += [
            f"| {sc} | {m.label} | {m.median:.2f} | {m.peak_mib:.0f} | {m.result['rows']:,.0f} | "
            f"{m.median / floor.median:.1f}× |"
            for m in (floor, plain, cold, warm)
        ]
        if base is not None:
            lines.append(
                f"| {sc} | pandas reference | {base.median:.2f} | {base.peak_mib:.0f} | {base.result['rows']:,.0f} | "
                f"{base.median / floor.median:.1f}× (warm is {warm.median / base.median:.2f}× pandas) |"
            )
    body = "\n".join(lines)
    return f"""
Every default KPI at month grain for the whole company on DuckDB. The floor runs {len(queries)} month-grain
aggregates (one per canonical table and time column); revalign's runs include imports, opening the file and the
data-version query. "cold" compiles and stores the SQL; "warm" runs SQL a previous process stored.

| scale | run | median s | peak MiB | rows | vs floor |
| --- | --- | ---: | ---: | ---: | ---: |
{body}
"""
