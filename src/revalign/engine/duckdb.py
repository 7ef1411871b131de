"""DuckDB engine: the embedded default (a single file, or memory)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

import ibis

from revalign.engine.base import Engine


class DuckDBEngine(Engine):
    """``duckdb:///path/to/file.duckdb`` (a file) or ``duckdb://`` / ``duckdb://:memory:`` (memory)."""

    name: ClassVar[str] = "duckdb"
    exact_median: ClassVar[bool] = True

    @classmethod
    def from_url(cls, url: str) -> DuckDBEngine:
        parsed = urlparse(url)
        path = (parsed.netloc + parsed.path) if parsed.netloc not in ("", ":memory:") else parsed.path
        path = path or ":memory:"
        if path not in (":memory:", "/:memory:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            path = ":memory:"
        return cls(ibis.duckdb.connect(path), url)

    def read_csv_baseline(self, path: str) -> int:
        """DuckDB's own CSV reader into a table; used only as the ingest benchmark's baseline."""
        # read_csv registers a view; materialise it so the baseline parses and stores every row, as ingest does
        self.con.create_table("_bench_read_csv", self.con.read_csv(path), overwrite=True)
        n = int(self.con.table("_bench_read_csv").count().execute())
        self.con.drop_table("_bench_read_csv")
        return n
