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
