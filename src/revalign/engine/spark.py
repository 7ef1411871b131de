"""Spark engine: a local (or cluster) Spark session for data that does not fit one machine's DuckDB."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, ClassVar

import ibis

try:
    from ibis.backends.pyspark import Backend as PySparkBackend
except ImportError:  # pragma: no cover - without the [spark] extra; spark_session() says what to install
    PySparkBackend = object

from revalign.engine.base import Engine
from revalign.errors import EngineError

_SESSION: Any = None

PLAN_TEXT_LIMIT = 256 * 1024
"""Characters of a query plan's text Spark keeps (``spark.sql.maxPlanStringLength``); the rest is cut off."""


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
        # Plan text: Spark formats every query's plan (adaptive execution re-formats it per stage) and keeps it
        # for the SQL UI, UI or not. The funnel's cached step tables nest their plans, so that text reached
        # hundreds of MB and the 2 GB heap ran out inside Arrow's collect thread: an OutOfMemoryError is not
        # caught there, the result promise is never completed, and toPandas waited forever (the old Spark hang).
        .config("spark.sql.maxPlanStringLength", str(PLAN_TEXT_LIMIT))
        .config("spark.sql.ui.retainedExecutions", "50")
        # An OutOfMemoryError anywhere else must end the JVM (Python then raises) rather than leave it idle.
        .config("spark.driver.extraJavaOptions", "-XX:+ExitOnOutOfMemoryError")
        .getOrCreate()
    )
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


class _Backend(PySparkBackend):
    """Ibis's pyspark backend with ``Table.cache()`` as an eager local checkpoint instead of Spark's cache.

    Spark's cache is lazy and keeps the cached query's whole plan inside every plan that reads it, so a chain of
    cached tables (the funnel's step tables) nests plans: the funnel's final aggregate carried ~4 million
    characters of plan text, formatted again on every adaptive stage. A checkpoint is computed once, when
    ``cache()`` is called, and read back as a plain scan of its blocks, so later plans stay small.
    """

    def _create_cached_table(self, name: str, expr: Any) -> Any:
        frame = self._session.sql(self.compile(expr)).localCheckpoint(eager=True)
        frame.createTempView(name)
        self._cached_dataframes[name] = frame
        return self.table(name)

    def _drop_cached_table(self, name: str) -> None:
        self._session.catalog.dropTempView(name)
        frame = self._cached_dataframes.pop(name)
        # the checkpoint's blocks: freed now rather than when the JVM's garbage collector finds the RDD
        with contextlib.suppress(Exception):
            frame._jdf.queryExecution().analyzed().rdd().unpersist(False)


class SparkEngine(Engine):
    """``spark://local[2]`` (default ``spark://``): a local Spark session through Ibis's pyspark backend."""

    name: ClassVar[str] = "spark"
    exact_median: ClassVar[bool] = True  # Ibis compiles median to PERCENTILE (exact) on Spark 4
    supports_temp_tables: ClassVar[bool] = True
    transactional: ClassVar[bool] = False  # no multi-table transactions: a load's log row is its commit marker

    @classmethod
    def from_url(cls, url: str) -> SparkEngine:
        master = url.split("://", 1)[1] or "local[2]"
        session = spark_session(master)
        if getattr(ibis.options, "pyspark", None) is None:  # what ibis.pyspark would do: its compiler reads them
            _Backend.register_options()
        return cls(_Backend().connect(session), url)

    def close(self) -> None:
        """Keep the shared session alive: other engines in this process reuse it."""
