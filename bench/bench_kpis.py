"""Full KPI catalog refresh: every default KPI × month grain × each standard dimension, on DuckDB.

Baselines, measured in the same run:

- whole company: the plain pandas reference implementations of every KPI (tests/reference/kpis.py) at month
  grain, against revalign's whole-company refresh of the catalog;
- by dimension: vectorised pandas of every default KPI (bench/pandas_catalog.py) by month, for the whole company
  and each of channel, campaign, segment, region, team and owner that the KPI reaches, against revalign's full
  refresh of the same slices. The pandas side is written for speed (dimensions attached once per table, work that
  does not depend on the slice done once) and is checked equal to revalign on every value at scale s
  (tests/kpis/test_sliced_reference.py); both sides' row counts are reported.

Both sides read their data in the timed call (DuckDB opens its file; pandas reads the Parquet files). revalign's
runs share the project's compiled-SQL cache (``.revalign/compiled-sql.sqlite``): the first run compiles, the
others (so the median) run stored SQL.
"""

from __future__ import annotations

import time
from pathlib import Path

TITLE = "KPI catalog refresh"
WORK = Path(__file__).resolve().parent / "_work"
DIMENSIONS = ("channel", "campaign", "segment", "region", "team", "owner")


def _db(scale: str) -> Path:
    return WORK / f"kpis-{scale}.duckdb"


def prepare(scale: str) -> Path:
    """Load the simulated company into a DuckDB file once (not timed)."""
    from bench.data import load_scale
    from revalign.engine import connect

    path = _db(scale)
    if not path.exists():
        tmp = path.with_suffix(".tmp.duckdb")
        tmp.unlink(missing_ok=True)
        engine = connect(f"duckdb://{tmp}")
        load_scale(engine, scale)
        engine.close()
        tmp.rename(path)
    return path


def revalign_refresh(
    scale: str, dims: bool = True, names: tuple[str, ...] = (), dimensions: tuple[str, ...] = DIMENSIONS
) -> dict[str, float]:
    from revalign.engine import connect
    from revalign.kpis import default_catalog
    from revalign.project import Project

    engine = connect(f"duckdb://{_db(scale)}")
    project = Project(WORK / "kpis-project", engine=engine)
    names = names or tuple(sorted(default_catalog().kpis))
    rows, timings = 0, {}
    for by in [(), *[(d,) for d in dimensions]] if dims else [()]:
        start = time.perf_counter()
        # the façade's query: the one the pages and CLI run, with the project's compiled-SQL cache
        rows += len(project.kpi(*names).grain("month").by(*by).skipping_unreachable(True).to_pandas())
        timings["+".join(by) or "company"] = time.perf_counter() - start
    timings["rows"] = rows
    return timings


def pandas_refresh(scale: str) -> dict[str, float]:
    import pandas as pd
    from tests.reference.kpis import REFERENCE

    from bench.data import scale_data
    from revalign.model.tables import TABLES

    folder = scale_data(scale)
    tables = {name: pd.read_parquet(folder / name) for name in TABLES}
    rows = sum(len(fn(tables)) for fn in REFERENCE.values())
    return {"rows": rows}


def main(scale: str = "l", runs: int = 3) -> str:
    from bench.measure import measure

    prepare(scale)
    full = measure(
        "revalign: catalog × (company + 6 dimensions)", "bench.bench_kpis:revalign_refresh", scale, True, runs=runs
    )
    company = measure("revalign: catalog, whole company", "bench.bench_kpis:revalign_refresh", scale, False, runs=runs)
    base = measure("pandas reference: catalog, whole company", "bench.bench_kpis:pandas_refresh", scale, runs=runs)
    sliced_base = measure(
        "pandas (vectorised): every KPI × the same slices", "bench.pandas_catalog:pandas_catalog", scale, runs=runs
    )
    per_dim = ", ".join(f"{k} {v:.1f} s" for k, v in full.result.items() if k != "rows")
    small = ""
    if scale != "s":  # the small scale, where fixed costs per KPI dominate, in the same run (3 runs: it is quick)
        prepare("s")
        s_full = measure("revalign: catalog × (company + 6 dimensions)", "bench.bench_kpis:revalign_refresh", "s", True)
        s_company = measure("revalign: catalog, whole company", "bench.bench_kpis:revalign_refresh", "s", False)
        s_base = measure("pandas reference: catalog, whole company", "bench.bench_kpis:pandas_refresh", "s")
        small = (
            f"At scale s (same run, 3 runs each): pandas reference {s_base.median:.1f} s, revalign whole company "
            f"{s_company.median:.1f} s ({s_company.median / s_base.median:.2f}×, {s_company.peak_mib:.0f} MiB), "
            f"full refresh {s_full.median:.1f} s ({s_full.peak_mib:.0f} MiB)."
        )

    def row(m: object, base_m: object | None) -> str:
        vs = "1.00× (baseline)" if base_m is None else f"{m.median / base_m.median:.2f}×"  # type: ignore[attr-defined]
        return f"| {m.label} | {m.median:.1f} | {m.peak_mib:.0f} | {m.result['rows']:,.0f} | {vs} |"  # type: ignore[attr-defined]

    n = len(__import__("revalign.kpis", fromlist=["x"]).default_catalog().kpis)
    return f"""
{n} KPIs at month grain on DuckDB; each KPI request is compiled with shared inputs and aggregates and run as one
query per batch (src/revalign/kpis/batch.py).

| run | median s | peak MiB | rows | vs its pandas baseline |
| --- | ---: | ---: | ---: | ---: |
{row(base, None)}
{row(company, base)}
{row(sliced_base, None)}
{row(full, sliced_base)}

Full refresh, last run, per slice: {per_dim}. A ratio above 1 means revalign is slower than the pandas baseline.
The by-dimension baseline is vectorised pandas of all {sliced_base.result["kpis"]:.0f} KPIs on the same slices
(bench/pandas_catalog.py, equal to revalign on every value at scale s: tests/kpis/test_sliced_reference.py).
{small}
"""
