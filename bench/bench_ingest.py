"""Ingest rate: revalign's CSV ingest (read, validate, map, upsert, ledger, raw copy) vs DuckDB's own read_csv.

A leads export in the generic CRM layout is generated (deterministic, into ``bench/_work/``, gitignored):
1,000,000 rows at scale ``l``. Both sides read the same file in a fresh process; the baseline is DuckDB's
``read_csv`` into a table, which only parses and types, so the ratio is the price of everything revalign does
on top (named-rule validation, value maps, quarantine, the raw copy, the ledger's first events, the load log).
Besides wall time, each side reports the CPU seconds its process used (steadier than wall time on a shared
machine) and revalign its seconds per load stage, so the section says where the remaining time goes.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from bench.measure import measure, table
from revalign.engine import connect
from revalign.sources.load.pipeline import load
from revalign.sources.load.plan import plan_files
from revalign.sources.load.read import FileReader
from revalign.sources.load.run import LoadRun
from revalign.sources.mapping import load_mapping

TITLE = "Ingest: 1M-row leads CSV (revalign vs DuckDB read_csv)"
WORK = Path(__file__).resolve().parent / "_work"
ROWS = {"xs": 10_000, "s": 100_000, "m": 300_000, "l": 1_000_000, "xl": 1_000_000}
SOURCES = np.array(["Organic Search", "Paid Search", "Paid Social", "Email", "Webinar", "Referral", "Direct", ""])
SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise", ""])
REGIONS = np.array(["emea", "na", "apac", "latam"])


def make_csv(rows: int, seed: int = 0) -> Path:
    """A generic-CRM leads export with ``rows`` rows (made once per size; same seed, same bytes)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"leads_{rows}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    ids = np.char.add("L", np.arange(rows).astype(str))
    start = np.datetime64("2024-01-01T00:00:00")
    created = start + rng.integers(0, 365 * 86_400, rows).astype("timedelta64[s]")
    modified = created + rng.integers(0, 30 * 86_400, rows).astype("timedelta64[s]")
    data = pa.table(
        {
            "Lead ID": ids,
            "Email": np.char.add(ids, "@example.com"),
            "Created Date": np.datetime_as_string(created, unit="s"),
            "Lead Source": SOURCES[rng.integers(0, len(SOURCES), rows)],
            "Owner ID": np.char.add("U", rng.integers(0, 200, rows).astype(str)),
            "Segment": SEGMENTS[rng.integers(0, len(SEGMENTS), rows)],
            "Region": REGIONS[rng.integers(0, len(REGIONS), rows)],
            "Score": np.round(rng.random(rows) * 100, 1).astype(str),
            "Converted": rng.integers(0, 2, rows).astype(str),
            "Last Modified Date": np.datetime_as_string(modified, unit="s"),
        }
    )
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(data, tmp, pacsv.WriteOptions(quoting_style="needed"))
    tmp.rename(path)
    return path


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_revalign(path: str) -> tuple[int, float, dict[str, float]]:
    """revalign ingest into a fresh in-memory DuckDB: rows loaded, CPU seconds, seconds per load stage.

    The steps of :func:`revalign.sources.ingest` (mapping, plan, run, load), spelt out to keep the run's stage
    timings.
    """
    start = _cpu_seconds()
    engine = connect("duckdb://:memory:")
    spec = load_mapping("generic_crm")
    run = LoadRun.start(engine, spec)
    report = load(run, plan_files(spec, Path(path)), FileReader())
    return sum(t.rows_loaded for t in report.tables), _cpu_seconds() - start, dict(run.timings)


def run_baseline(path: str) -> tuple[int, float, dict[str, float]]:
    """DuckDB's own CSV reader into a table in a fresh in-memory database: its row count and CPU seconds.

    Bench code, so it talks to DuckDB through ibis directly rather than through revalign's engine.
    """
    start = _cpu_seconds()
    con = ibis.duckdb.connect(":memory:")
    # read_csv registers a view; materialise it so the baseline parses and stores every row, as ingest does
    con.create_table("_bench_read_csv", con.read_csv(path), overwrite=True)
    n = int(con.table("_bench_read_csv").count().execute())
    con.drop_table("_bench_read_csv")
    return n, _cpu_seconds() - start, {}


def main(scale: str, runs: int) -> str:
    rows = ROWS.get(scale, ROWS["l"])
    path = str(make_csv(rows))
    load_before = os.getloadavg()[0]
    ours = measure("revalign ingest", "bench.bench_ingest:run_revalign", path, runs=runs)
    base = measure("duckdb read_csv", "bench.bench_ingest:run_baseline", path, runs=runs)
    load_after = os.getloadavg()[0]
    assert ours.result[0] == base.result[0] == rows, (ours.result, base.result, rows)
    size_mib = Path(path).stat().st_size / 2**20
    body = table(
        [
            {
                "system": m.label,
                "rows": f"{rows:,}",
                "median s": f"{m.median:.2f}",
                "runs s": ", ".join(f"{x:.2f}" for x in m.seconds),
                "rows/s": f"{rows / m.median:,.0f}",
                "MiB/s": f"{size_mib / m.median:.1f}",
                "peak MiB": f"{m.peak_mib:,.0f}",
                "vs baseline": f"{m.median / base.median:.1f}×",
                "CPU s (last run)": f"{m.result[1]:.2f}",
                "CPU vs baseline": f"{m.result[1] / base.result[1]:.1f}×",
            }
            for m in (ours, base)
        ]
    )
    stages = ours.result[2]
    total = sum(stages.values())
    shares = ", ".join(f"{name} {sec:.2f} s ({sec / total:.0%})" for name, sec in stages.items())
    return (
        f"File: a generic-CRM leads export, {rows:,} rows, {size_mib:.0f} MiB, 10 columns "
        "(`bench/bench_ingest.py` makes it). revalign's figure includes reading, the raw copy, validation under "
        "named rules, value maps, the canonical upsert, one ledger event per lead and the load log; the baseline "
        "only parses and types the CSV into a DuckDB table. Both run in the same session on the same (shared) "
        "machine: read the ratio, absolute rates move with the machine's load; CPU seconds (user + system of the "
        "measured process, DuckDB's threads included) move less with it. Load average (1 min) "
        f"{load_before:.1f} before the runs, {load_after:.1f} after.\n\n"
        + body
        + f"\nrevalign's last run by load stage (wall time): {shares}. Read is the CSV parse, its checks and the "
        "column casts; validate the rules and the merge into the table's state; diff the ledger events and their "
        "ids; write the raw copy, the canonical table, the ledger and the log into DuckDB in one transaction.\n"
    )
