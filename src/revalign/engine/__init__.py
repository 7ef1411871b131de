"""④ Engines: connect by URL to DuckDB (default), PostgreSQL or Spark.

``connect("duckdb:///project/revalign.duckdb")``, ``connect("postgres://u:p@127.0.0.1:5432/db")``,
``connect("spark://local[2]")``. This package is the only place that imports a backend driver.
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


def connect(url: str = DEFAULT_URL) -> Engine:
    """An :class:`Engine` for ``url``; the scheme picks the backend."""
    import importlib

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in _SCHEMES:
        raise EngineError(
            f"Unknown engine URL {url!r}. Use one of: duckdb:///path/file.duckdb, duckdb://:memory:, "
            "postgres://user:password@host:port/db, spark://local[2]."
        )
    module, cls = _SCHEMES[scheme]
    return getattr(importlib.import_module(module), cls).from_url(url)


__all__ = ["DEFAULT_URL", "Engine", "connect", "memtable"]
