"""Spark engine: a local (or cluster) Spark session for data that does not fit one machine's DuckDB."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import ibis
import pandas as pd

try:
    from ibis.backends.pyspark import Backend as PySparkBackend
    from ibis.backends.pyspark.converter import PySparkPandasData
except ImportError:  # pragma: no cover - without the [spark] extra; spark_session() says what to install
    PySparkBackend = object

from revalign.engine.base import Engine
from revalign.errors import EngineError

_SESSIONS: dict[str, tuple[tuple[tuple[str, str], ...], Any]] = {}
"""The process's Spark sessions by master (``local[2]``, ``spark://host:7077``, ``sc://host:15002``), with the
extra conf each was built with. A JVM runs one classic session: a second master in one process is refused."""

PLAN_TEXT_LIMIT = 256 * 1024
"""Characters of a query plan's text Spark keeps (``spark.sql.maxPlanStringLength``); the rest is cut off."""

DEFAULT_LOCAL = "local[2]"
STANDALONE_PORT = 7077
"""The port of a standalone master when ``spark://host`` names none (Spark's own default)."""


@dataclass(frozen=True)
class SparkTarget:
    """Where an engine URL's Spark runs: ``local`` (one JVM in this process), ``standalone`` (a cluster's master:
    ``spark://host:port``) or ``connect`` (a Spark Connect server: ``sc://host:port``)."""

    kind: Literal["local", "standalone", "connect"]
    master: str
    """What Spark is given: ``local[2]``, ``spark://host:7077``, ``sc://host:15002``."""


def parse_url(url: str) -> SparkTarget:
    """The Spark target of an engine URL.

    ``spark://`` and ``spark://local[…]`` run locally (the URL once meant only that, so the scheme was stripped
    and ``spark://host:7077`` became the master ``host:7077``, which Spark rejects); ``spark://host[:port]`` (or
    several ``host:port`` for a standby master) is a standalone master, kept whole; ``sc://…`` is Spark Connect.
    """
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "sc":
        if not rest.split("/", 1)[0].split(";", 1)[0]:
            raise EngineError(f"Spark Connect URL {url!r} names no server. Use sc://host:15002.")
        return SparkTarget("connect", url)
    if scheme != "spark":
        raise EngineError(f"Not a Spark URL: {url!r}. Use spark://local[2], spark://host:7077 or sc://host:15002.")
    if rest in ("", "local") or rest.startswith("local["):
        return SparkTarget("local", rest if rest.startswith("local[") else DEFAULT_LOCAL)
    hosts = [h if ":" in h else f"{h}:{STANDALONE_PORT}" for h in rest.rstrip("/").split(",")]
    if any(not h.split(":", 1)[0] or not h.rsplit(":", 1)[1].isdigit() for h in hosts):
        raise EngineError(f"Spark master URL {url!r} is not host:port. Use spark://host:7077.")
    return SparkTarget("standalone", "spark://" + ",".join(hosts))


COMMON_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Plan text: Spark formats every query's plan (adaptive execution re-formats it per stage) and keeps it
    # for the SQL UI, UI or not. The funnel's cached step tables nest their plans, so that text reached
    # hundreds of MB and the 2 GB heap ran out inside Arrow's collect thread: an OutOfMemoryError is not
    # caught there, the result promise is never completed, and toPandas waited forever (the old Spark hang).
    "spark.sql.maxPlanStringLength": str(PLAN_TEXT_LIMIT),
    "spark.sql.ui.retainedExecutions": "50",
    # An OutOfMemoryError anywhere else must end the JVM (Python then raises) rather than leave it idle.
    "spark.driver.extraJavaOptions": "-XX:+ExitOnOutOfMemoryError",
}
"""What every classic session (local or on a cluster) is given; ``engine_conf`` in revalign.yaml overrides it."""

LOCAL_CONF: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": "2g",
}
"""Loopback and a 2 GB heap: right for ``local[…]`` (nothing else needs to reach the driver), wrong on a cluster,
whose executors must reach the driver on a routable address and whose size is the cluster's."""

CONNECT_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
"""A Connect session takes only runtime SQL settings (the server's JVM is already configured)."""


def session_conf(target: SparkTarget, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The conf a session for ``target`` is built with: common, loopback for ``local`` only, then ``extra``."""
    if target.kind == "connect":
        return {**CONNECT_CONF, **(extra or {})}
    base = {**COMMON_CONF, **(LOCAL_CONF if target.kind == "local" else {})}
    # a fresh temporary warehouse per process: a fixed one makes a second run fail with LOCATION_ALREADY_EXISTS
    base["spark.sql.warehouse.dir"] = tempfile.mkdtemp(prefix="revalign-spark-warehouse-")
    return {**base, **(extra or {})}


def spark_session(master: str = DEFAULT_LOCAL, conf: Mapping[str, str] | None = None) -> Any:
    """One Spark session per process and master (starting one costs ~6 s).

    ``master`` is ``local[2]``, ``spark://host:7077`` or ``sc://host:15002`` (see :func:`parse_url`); ``conf``
    is extra ``spark.*`` settings (revalign.yaml's ``engine_conf``). A classic session binds the driver to
    loopback only when it runs locally.
    """
    target = SparkTarget("local", master) if master.startswith("local") else parse_url(master)
    key = tuple(sorted((conf or {}).items()))
    found = _SESSIONS.get(target.master)
    if found is not None:
        if found[0] != key:
            raise EngineError(
                f"This process already has a Spark session on {target.master} with other settings; Spark "
                "keeps the first. Use the same engine_conf, or another process."
            )
        return found[1]
    classic = [m for m in _SESSIONS if not m.startswith("sc://")]
    if target.kind != "connect" and classic:
        raise EngineError(
            f"This process already runs a Spark session on {classic[0]}; one process holds one (a JVM runs one "
            f"SparkContext). Open {target.master} from another process."
        )
    session = _build(target, session_conf(target, conf))
    _SESSIONS[target.master] = (key, session)
    return session


def _build(target: SparkTarget, conf: Mapping[str, str]) -> Any:
    """Start (or join) the session ``target`` names, with ``conf``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise EngineError("The Spark engine needs the [spark] extra: pip install 'revalign[spark]'.") from exc
    builder = SparkSession.builder
    if target.kind == "connect":
        builder = builder.remote(target.master)
    else:
        if target.kind == "local":
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
        builder = builder.master(target.master).appName("revalign")
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the driver's own message (no master, no server, missing Connect deps)
        raise EngineError(f"Could not start a Spark session on {target.master}: {exc}") from exc
    if target.kind != "connect":
        session.sparkContext.setLogLevel("ERROR")
    return session


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
    """Spark through Ibis's pyspark backend: ``spark://local[2]`` (default ``spark://``) runs locally,
    ``spark://host:7077`` on a standalone cluster, ``sc://host:15002`` on a Spark Connect server, and
    :meth:`from_session` on a session the caller already has (a notebook's, Databricks')."""

    name: ClassVar[str] = "spark"
    exact_median: ClassVar[bool] = True  # Ibis compiles median to PERCENTILE (exact) on Spark 4
    supports_temp_tables: ClassVar[bool] = True
    transactional: ClassVar[bool] = False  # no multi-table transactions: a load's log row is its commit marker

    @classmethod
    def from_url(cls, url: str, *, conf: Mapping[str, str] | None = None) -> SparkEngine:
        """Connect to the Spark of ``url`` (see :func:`parse_url`); ``conf``: extra ``spark.*`` settings."""
        target = parse_url(url)
        return cls.from_session(spark_session(target.master, conf), url=url)

    @classmethod
    def from_session(cls, session: Any, *, url: str | None = None) -> SparkEngine:
        """An engine on an existing ``SparkSession`` (classic or Connect): revalign starts nothing, sets nothing
        and never stops it (``open_project(folder, engine=SparkEngine.from_session(spark))``)."""
        if getattr(ibis.options, "pyspark", None) is None:  # what ibis.pyspark would do: its compiler reads them
            _Backend.register_options()
        return cls(_Backend().connect(session), url or f"spark://{_master_of(session)}")

    def run_sql(self, sql: str, schema: ibis.Schema) -> pd.DataFrame:
        """The text run by ``spark.sql`` and converted as Ibis's ``execute`` converts."""
        try:
            frame = self.con._session.sql(sql).toPandas()
        except Exception as exc:  # Spark's analysis and execution errors, re-raised with the engine named
            raise self._sql_error(exc) from exc
        return PySparkPandasData.convert_table(frame, schema)

    def close(self) -> None:
        """Keep the shared session alive: other engines in this process reuse it."""


def _master_of(session: Any) -> str:
    """What a session runs on, for the engine's URL (a Connect session has no SparkContext to ask)."""
    try:
        return str(session.sparkContext.master)
    except Exception:  # a Connect session: sparkContext is not supported there
        return "connect"
