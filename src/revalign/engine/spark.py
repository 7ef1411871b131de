"""Spark engine: a local (or cluster) Spark session for data that does not fit one machine's DuckDB."""

from __future__ import annotations

import os
import tempfile
from typing import Any, ClassVar

import ibis

from revalign.engine.base import Engine
from revalign.errors import EngineError

_SESSION: Any = None


def spark_session(master: str = "local[2]") -> Any:
    """One Spark session per process (starting one costs ~6 s), bound to loopback.

    The warehouse folder is a fresh temporary directory per process: a fixed one makes a second run fail
    with LOCATION_ALREADY_EXISTS.
    """
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise EngineError("The Spark engine needs the [spark] extra: pip install 'revalign[spark]'.") from exc
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    warehouse = tempfile.mkdtemp(prefix="revalign-spark-warehouse-")
    _SESSION = (
        SparkSession.builder.master(master)
        .appName("revalign")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


class SparkEngine(Engine):
    """``spark://local[2]`` (default ``spark://``): a local Spark session through Ibis's pyspark backend."""

    name: ClassVar[str] = "spark"
    exact_median: ClassVar[bool] = True  # Ibis compiles median to PERCENTILE (exact) on Spark 4
    supports_temp_tables: ClassVar[bool] = True

    @classmethod
    def from_url(cls, url: str) -> SparkEngine:
        master = url.split("://", 1)[1] or "local[2]"
        return cls(ibis.pyspark.connect(spark_session(master)), url)

    def close(self) -> None:
        """Keep the shared session alive: other engines in this process reuse it."""
