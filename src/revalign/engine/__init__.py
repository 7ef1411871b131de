"""④ Engines: connect by URL to DuckDB (default), PostgreSQL or Spark.

``connect("duckdb:///project/revalign.duckdb")``, ``connect("postgres://u:p@127.0.0.1:5432/db")``,
``connect("spark://local[2]")``. This package is the only place that imports a backend driver.

``connect(url, read_only=True)`` is for a process that shares the store with others (the server): on a DuckDB
file, which one process may write or many may read at a time, it holds the file only while it reads (see
``engine/duckdb.py`` and docs/server.md); PostgreSQL and Spark serve readers and writers at once, so the flag
changes nothing there.
"""

from __future__ import annotations

from revalign.engine.base import Engine, memtable
from revalign.errors import EngineError

DEFAULT_URL = "duckdb://:memory:"

_SCHEMES = {
    "duckdb": ("revalign.engine.duckdb", "DuckDBEngine"),
    "postgres": ("revalign.engine.postgres", "PostgresEngine"),
    "postgresql": ("revalign.engine.postgres", "PostgresEngine"),
    "spark": ("revalign.engine.spark", "SparkEngine"),
}


def connect(url: str = DEFAULT_URL, *, read_only: bool = False) -> Engine:
    """An :class:`Engine` for ``url``; the scheme picks the backend. ``read_only``: see the module docstring."""
    import importlib

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in _SCHEMES:
        raise EngineError(
            f"Unknown engine URL {url!r}. Use one of: duckdb:///path/file.duckdb, duckdb://:memory:, "
            "postgres://user:password@host:port/db, spark://local[2]."
        )
    module, cls = _SCHEMES[scheme]
    engine_class = getattr(importlib.import_module(module), cls)
    if read_only and scheme == "duckdb":  # the one backend whose writer locks readers out (a single file)
        return engine_class.from_url(url, read_only=True)
    return engine_class.from_url(url)


__all__ = ["DEFAULT_URL", "Engine", "connect", "memtable"]
