"""The cluster benchmark's own checks: its Spark-against-DuckDB comparison must catch a wrong value, a missing row
and a null in one engine only, and its /proc memory sampler must see a process of a watched group at its size.

The benchmark's figures are only as good as these two: a comparison that always says "equal" would hide a wrong
result at scale, and a sampler that missed the executors would report a cluster as small.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from bench.bench_cluster import MemorySampler, compare

KEYS = {"kpi": ["a", "a", "b"], "period_start": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-01-01"])}


def _write(folder: Path, values: list[float | None], rows: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({**KEYS, "value": values}).head(rows)
    frame.to_parquet(folder / "company.parquet")
    return folder


def test_equal_results_compare_equal(tmp_path: Path) -> None:
    duck = _write(tmp_path / "d", [1.0, 2.0, 3.0])
    spark = _write(tmp_path / "s", [1.0, 2.0 * (1 + 1e-12), 3.0])
    assert compare(spark, duck).startswith("equal: 3 KPI rows compared")


def test_no_slice_to_compare_is_not_called_equal(tmp_path: Path) -> None:
    duck = _write(tmp_path / "d", [1.0, 2.0, 3.0])
    (tmp_path / "s").mkdir()
    assert compare(tmp_path / "s", duck).startswith("nothing compared")


def test_a_wrong_value_a_missing_row_and_a_one_sided_null_are_reported(tmp_path: Path) -> None:
    duck = _write(tmp_path / "d", [1.0, 2.0, 3.0])
    assert compare(_write(tmp_path / "wrong", [1.0, 2.001, 3.0]), duck).startswith("DIFFERENT")
    assert "1 rows in one engine only" in compare(_write(tmp_path / "short", [1.0, 2.0, 3.0], rows=2), duck)
    assert "1 values null in one engine" in compare(_write(tmp_path / "null", [1.0, None, 3.0]), duck)


def test_the_sampler_sees_a_watched_process_group_at_its_size() -> None:
    """A child that holds 200 MiB in its own process group: the sampled peak is at least that, and processes
    outside the watched groups (this one) are not counted."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; b = bytearray(200 * 2**20); print(1, flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"1"
        sampler = MemorySampler({child.pid: "child"})
        sampler.sample()
    finally:
        child.kill()
        child.wait()
    peaks = sampler.peaks_mib()
    assert set(peaks) == {"child"} and peaks["child"] >= 200
    assert os.getpid() not in sampler.hwm_kib
