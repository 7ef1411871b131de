"""Full KPI catalog refresh: every default KPI × month grain × each standard dimension, on DuckDB.

Baselines, measured in the same run:

- whole company: the plain pandas reference implementations of every KPI (tests/reference/kpis.py) at month
  grain, against revalign's whole-company refresh of the catalog;
- by dimension: a vectorised pandas implementation (below) of the eleven KPIs of the opportunities model
  (revenue, deals, win rate, deal size, cycle times, pipeline) by month × channel, segment, region, team and
  owner, against revalign refreshing the same KPIs × the same slices. The pandas side is written for speed
  (groupby on period codes), so this is a strong baseline; both sides' row counts are reported to show they
  computed the same slices.

The full refresh (whole company + channel, campaign, segment, region, team and owner, each KPI where its
semantic model reaches the dimension) has no pandas twin for every KPI and is reported as is. Both sides read
their data in the timed call (DuckDB opens its file; pandas reads the Parquet files).
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


SLICED_DIMENSIONS = ("channel", "segment", "region", "team", "owner")
SLICED_KPIS = (
    "new_revenue",
    "deals_won",
    "new_customers",
    "opportunities_closed",
    "win_rate",
    "average_deal_size",
    "sales_cycle_days_median",
    "sales_cycle_days_mean",
    "opportunities_created",
    "pipeline_created",
    "pipeline_in_period",
)
REVISION = "2024-07-01"  # new_revenue counted closed-won renewals in months before this


def revalign_refresh(
    scale: str, dims: bool = True, names: tuple[str, ...] = (), dimensions: tuple[str, ...] = DIMENSIONS
) -> dict[str, float]:
    from revalign.engine import connect
    from revalign.kpis import default_catalog, evaluate
    from revalign.project import Project

    engine = connect(f"duckdb://{_db(scale)}")
    project = Project(WORK / "kpis-project", engine=engine)
    names = names or tuple(sorted(default_catalog().kpis))
    rows, timings = 0, {}
    for by in [(), *[(d,) for d in dimensions]] if dims else [()]:
        start = time.perf_counter()
        rows += len(evaluate(project.tables, project.catalog, names, grain="month", by=by, skip_unreachable=True))
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


def pandas_sliced(scale: str) -> dict[str, float]:
    """The opportunity KPIs of :data:`SLICED_KPIS` by month, whole company and by each sliced dimension."""
    import numpy as np
    import pandas as pd

    from bench.data import scale_data

    folder = scale_data(scale)
    o = pd.read_parquet(folder / "opportunities")
    users = pd.read_parquet(folder / "users", columns=["user_id", "team_id"])
    o = o.merge(users.rename(columns={"user_id": "owner_id", "team_id": "team"}), on="owner_id", how="left")
    o["channel"], o["owner"] = o["lead_source"], o["owner_id"]
    closed_m = pd.to_datetime(o["closed_at"]).dt.to_period("M")
    created_m = pd.to_datetime(o["created_at"]).dt.to_period("M")
    close_m = pd.to_datetime(o["close_date"]).dt.to_period("M")
    won, closed, nb = o["is_won"].astype(bool), o["is_closed"].astype(bool), o["deal_type"] == "new_business"
    before = closed_m < pd.Period(REVISION, "M")
    days = (pd.to_datetime(o["closed_at"]).dt.normalize() - pd.to_datetime(o["created_at"]).dt.normalize()).dt.days

    def agg(mask: pd.Series, month: pd.Series, keys: list[str], value: pd.Series | None, how: str) -> pd.Series:
        frame = pd.DataFrame({"m": month, **{k: o[k].astype("string").fillna("(none)") for k in keys}})
        frame["v"] = 1.0 if value is None else value
        frame = frame[mask.to_numpy() & frame["m"].notna().to_numpy()]
        out = frame.groupby(["m", *keys])["v"].agg("size" if value is None else how)
        return out.astype(float).dropna()

    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        num, den = num.align(den, join="outer", fill_value=0.0)
        return (num / den.where(den != 0)).replace([np.inf, -np.inf], np.nan).dropna()

    rows = 0
    for keys in [[], *[[d] for d in SLICED_DIMENSIONS]]:
        won_nb = won & nb
        out = {
            "new_revenue": agg(
                won & (nb | (before & (o["deal_type"] == "renewal"))), closed_m, keys, o["amount"], "sum"
            ),
            "deals_won": agg(won_nb, closed_m, keys, None, "size"),
            "new_customers": agg(won_nb, closed_m, keys, o["account_id"], "nunique"),
            "opportunities_closed": agg(closed & nb, closed_m, keys, None, "size"),
            "sales_cycle_days_median": agg(won_nb, closed_m, keys, days, "median"),
            "sales_cycle_days_mean": agg(won_nb, closed_m, keys, days, "mean"),
            "opportunities_created": agg(nb, created_m, keys, None, "size"),
            "pipeline_created": agg(nb, created_m, keys, o["amount"], "sum"),
            "pipeline_in_period": agg(nb & (won | ~closed), close_m, keys, o["amount"], "sum"),
        }
        out["win_rate"] = ratio(out["deals_won"], out["opportunities_closed"])
        out["average_deal_size"] = ratio(out["new_revenue"], out["deals_won"])
        rows += sum(len(v) for v in out.values())
    return {"rows": rows}


def main(scale: str = "l", runs: int = 3) -> str:
    from bench.measure import measure

    prepare(scale)
    full = measure(
        "revalign: catalog × (company + 6 dimensions)", "bench.bench_kpis:revalign_refresh", scale, True, runs=runs
    )
    company = measure("revalign: catalog, whole company", "bench.bench_kpis:revalign_refresh", scale, False, runs=runs)
    base = measure("pandas reference: catalog, whole company", "bench.bench_kpis:pandas_refresh", scale, runs=runs)
    sliced = measure(
        f"revalign: {len(SLICED_KPIS)} opportunity KPIs × (company + {len(SLICED_DIMENSIONS)} dimensions)",
        "bench.bench_kpis:revalign_refresh",
        scale,
        True,
        SLICED_KPIS,
        SLICED_DIMENSIONS,
        runs=runs,
    )
    sliced_base = measure(
        f"pandas (vectorised): the same {len(SLICED_KPIS)} KPIs × the same slices",
        "bench.bench_kpis:pandas_sliced",
        scale,
        runs=runs,
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
{row(sliced, sliced_base)}
| {full.label} | {full.median:.1f} | {full.peak_mib:.0f} | {full.result["rows"]:,.0f} | — |

Full refresh, last run, per slice: {per_dim}. A ratio above 1 means revalign is slower than the pandas baseline.
The by-dimension baseline covers a subset: the 11 KPIs of the opportunities model (revenue, deals, win rate,
deal size, cycle times, pipeline) × channel, segment, region, team and owner, written as vectorised pandas
(a much faster baseline than the per-KPI reference functions); equal row counts show both computed the same slices.
{small}
"""
