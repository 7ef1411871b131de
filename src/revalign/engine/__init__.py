"""④ Engines: connect by URL to DuckDB (default), PostgreSQL, Spark, or another warehouse through Ibis.

``connect("duckdb:///project/revalign.duckdb")``, ``connect("postgres://u:p@127.0.0.1:5432/db")``,
``connect("spark://local[2]")`` (local), ``connect("spark://host:7077")`` (a standalone cluster),
``connect("sc://host:15002")`` (Spark Connect), ``connect(spark)`` (an existing ``SparkSession``), and
``snowflake://``, ``bigquery://``, ``databricks://``, ``clickhouse://``, ``trino://``, ``motherduck://`` through
Ibis (``engine/warehouse.py``; docs/engines.md). This package is the only place that imports a backend driver.

``connect(url, read_only=True)`` is for a process that shares the store with others (the server): on a DuckDB
file, which one process may write or many may read at a time, it holds the file only while it reads (see
``engine/duckdb.py`` and docs/server.md); the other engines serve readers and writers at once, so the flag
changes nothing there. ``conf`` is extra settings for the engine (revalign.yaml's ``engine_conf``): ``spark.*``
keys for a Spark session; the other engines take none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from revalign.engine.base import Engine, memtable
from revalign.errors import EngineError

DEFAULT_URL = "duckdb://:memory:"

_SCHEMES = {
    "duckdb": ("revalign.engine.duckdb", "DuckDBEngine"),
    "postgres": ("revalign.engine.postgres", "PostgresEngine"),
    "postgresql": ("revalign.engine.postgres", "PostgresEngine"),
    "spark": ("revalign.engine.spark", "SparkEngine"),
    "sc": ("revalign.engine.spark", "SparkEngine"),
    "snowflake": ("revalign.engine.warehouse", "SnowflakeEngine"),
    "bigquery": ("revalign.engine.warehouse", "BigQueryEngine"),
    "databricks": ("revalign.engine.warehouse", "DatabricksEngine"),
    "clickhouse": ("revalign.engine.warehouse", "ClickHouseEngine"),
    "trino": ("revalign.engine.warehouse", "TrinoEngine"),
    "motherduck": ("revalign.engine.warehouse", "MotherDuckEngine"),
    "md": ("revalign.engine.warehouse", "MotherDuckEngine"),
}
SPARK_SCHEMES = frozenset({"spark", "sc"})
"""The schemes whose engine takes ``conf`` (``spark.*`` settings)."""


def scheme_of(url: str) -> str:
    """The engine URL's scheme, lower-cased (``""`` when there is none)."""
    return url.split("://", 1)[0].lower() if "://" in url else ""


def connect(url: Any = DEFAULT_URL, *, read_only: bool = False, conf: Mapping[str, str] | None = None) -> Engine:
    """An :class:`Engine` for ``url``; the scheme picks the backend. ``url`` may also be a ``SparkSession``
    (the caller's own: revalign uses it as it is). ``read_only`` and ``conf``: see the module docstring."""
    import importlib

    if not isinstance(url, str):  # by name, like every backend here: a plain import would make pyspark reachable
        spark = importlib.import_module(_SCHEMES["spark"][0])  # from every module that imports the engine package
        return getattr(spark, _SCHEMES["spark"][1]).from_session(url)
    scheme = scheme_of(url)
    if scheme not in _SCHEMES:
        raise EngineError(
            f"Unknown engine URL {url!r}. Use one of: duckdb:///path/file.duckdb, duckdb://:memory:, "
            "postgres://user:password@host:port/db, spark://local[2], spark://host:7077, sc://host:15002, "
            "snowflake://…, bigquery://…, databricks://…, clickhouse://…, trino://…, motherduck://… "
            "(docs/engines.md)."
        )
    if conf and scheme not in SPARK_SCHEMES:
        raise EngineError(f"engine_conf applies to Spark engines only; {url!r} is a {scheme} engine.")
    module, cls = _SCHEMES[scheme]
    engine_class = getattr(importlib.import_module(module), cls)
    if read_only and scheme == "duckdb":  # the one backend whose writer locks readers out (a single file)
        return engine_class.from_url(url, read_only=True)
    if scheme in SPARK_SCHEMES:
        return engine_class.from_url(url, conf=conf)
    return engine_class.from_url(url)


__all__ = ["DEFAULT_URL", "Engine", "connect", "memtable", "scheme_of"]
