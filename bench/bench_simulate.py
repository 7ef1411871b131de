"""Simulator throughput: touchpoints generated per second and peak memory, against a raw Parquet-writing floor.

The candidate is ``simulate_to_parquet`` at the requested scale (every canonical table, the ground truth,
chunked). The baseline, measured in the same run, writes the same number of rows of random data with the
touchpoints' column types to Parquet with pyarrow in the same chunk size: the I/O floor any generator pays.
The ratio says how much the simulation itself costs on top of writing its output.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.measure import measure, table
from revalign.simulate import simulate_to_parquet
from revalign.simulate.writer import PARQUET_OPTIONS, ids

TITLE = "Simulator (revalign simulate)"


def generate(scale: str, folder: str) -> dict[str, int]:
    """The candidate: simulate a company into ``folder``; returns rows per table."""
    shutil.rmtree(folder, ignore_errors=True)
    truth = simulate_to_parquet(folder, scale=scale, seed=0)
    return truth.counts


def write_random(rows: int, folder: str, chunk: int = 1_000_000) -> int:
    """The baseline: ``rows`` random touch-like rows (ids, timestamps, categories) written to Parquet in chunks."""
    shutil.rmtree(folder, ignore_errors=True)
    Path(folder).mkdir(parents=True)
    rng = np.random.default_rng(0)
    channels = pa.array(["organic_search", "paid_search", "email", "events", "direct", "outbound_sales"])
    done, part = 0, 0
    while done < rows:
        n = min(chunk, rows - done)
        k = np.arange(done, done + n)
        t = pa.table(
            {
                "touchpoint_id": ids("T", k, 10),
                "lead_id": ids("L", rng.integers(0, rows // 8 + 1, n), 9),
                "account_id": ids("A", rng.integers(0, rows // 20 + 1, n), 9),
                "occurred_at": pa.array(rng.integers(1.7e15, 1.77e15, n), pa.timestamp("us")),
                "channel": channels.take(pa.array(rng.integers(0, len(channels), n))),
                "campaign_id": ids("C", rng.integers(0, 112, n), 4),
                "touch_type": pa.array(np.where(rng.random(n) < 0.8, "marketing", "sales")),
                "interaction": pa.array(np.where(rng.random(n) < 0.5, "visit", "form_fill")),
            }
        )
        pq.write_table(t, f"{folder}/part-{part:05d}.parquet", **PARQUET_OPTIONS)
        done += n
        part += 1
    return rows


def main(scale: str = "l", runs: int = 3) -> str:
    work = Path(tempfile.mkdtemp(prefix="revalign-bench-sim-"))
    try:
        sim = measure(f"simulate {scale}", "bench.bench_simulate:generate", scale, str(work / "sim"), runs=runs)
        counts = sim.result
        touches = counts["touchpoints"]
        total_rows = sum(counts.values())
        size = sum(p.stat().st_size for p in (work / "sim").rglob("*") if p.is_file())
        truth_size = (work / "sim" / "ground_truth.json").stat().st_size
        floor = measure("pyarrow floor", "bench.bench_simulate:write_random", total_rows, str(work / "raw"), runs=runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        {
            "what": f"simulate_to_parquet scale {scale} (all tables + ground truth)",
            "median s": f"{sim.median:.1f}",
            "touchpoints/s": f"{touches / sim.median:,.0f}",
            "rows/s (all tables)": f"{total_rows / sim.median:,.0f}",
            "peak MiB": f"{sim.peak_mib:,.0f}",
        },
        {
            "what": f"baseline: write {total_rows:,} random rows to Parquet (pyarrow)",
            "median s": f"{floor.median:.1f}",
            "touchpoints/s": "—",
            "rows/s (all tables)": f"{total_rows / floor.median:,.0f}",
            "peak MiB": f"{floor.peak_mib:,.0f}",
        },
    ]
    detail = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    return (
        table(rows)
        + f"\nRatio simulate / raw-write floor: **{sim.median / floor.median:.1f}×** the time of only writing the "
        f"same number of rows. Output: {size / 2**20:,.0f} MiB of Parquet (ground_truth.json "
        f"{truth_size / 2**20:,.1f} MiB).\n\nRows: {detail}.\n\n"
        "Memory is bounded by the chunk size (100k leads), not the scale: the peak above is one chunk's "
        "working set plus the ground-truth accumulators.\n" + "\n<!-- counts: " + json.dumps(counts) + " -->\n"
    )
