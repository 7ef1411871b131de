"""revalign on a Spark standalone cluster (one master, one worker on loopback, started by pyspark's own
launcher) and through a Spark Connect server computes the same KPI values as DuckDB on the same simulated company.

Scale s, not m (the issue's figure): on the 2-core CI machine a cluster of JVMs at scale m takes minutes per KPI
batch. The KPIs are one or two of each type (simple sum, count, count distinct, percentile, ratio, derived,
conversion, cumulative, snapshot), by quarter. The driver runs in a child process: a JVM holds one Spark context,
and this test process may already hold the local one of the other Spark tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from revalign.engine import connect
from revalign.kpis import evaluate, load_catalog
from revalign.model.access import Tables
from revalign.model.tables import TABLES
from revalign.simulate import simulate_to_parquet
from tests.conftest import REPO
from tests.engine.cluster import start_cluster, start_connect_server

pytestmark = [pytest.mark.spark, pytest.mark.slow]

KPIS = (
    "new_revenue",
    "new_leads",
    "new_customers",
    "sales_cycle_days_median",
    "win_rate",
    "pipeline_velocity",
    "mql_to_sql_rate",
    "new_revenue_ytd",
    "mqls_trailing_90d",
    "mrr",
)

DRIVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from revalign.engine import connect
    from revalign.engine.spark import SparkEngine
    from revalign.kpis import evaluate, load_catalog
    from revalign.model.tables import TABLES

    url, data, out, kpis = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    conf = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
            "spark.executor.memory": "1g", "spark.cores.max": "1"}
    engine = connect(url, conf=conf)
    assert isinstance(engine, SparkEngine)
    master = engine.con._session.sparkContext.master
    for name in TABLES:
        engine.load_parquet(name, data / name)
    from revalign.model.access import Tables
    frame = evaluate(Tables(engine), load_catalog(), kpis, grain="quarter")
    frame.to_parquet(out)
    print(json.dumps({"master": master}))
    """
)


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("company") / "s"
    simulate_to_parquet(folder, scale="s", seed=0)
    return folder


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    running = start_cluster(tmp_path_factory.mktemp("spark-cluster"), workers=1, cores=1, memory="1g")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def duckdb_values(company: Path) -> pd.DataFrame:
    """The expectation: the same KPIs on DuckDB (itself held to pandas oracles by tests/kpis)."""
    engine = connect("duckdb://:memory:")
    for name in TABLES:
        engine.load_parquet(name, company / name)
    return _sorted(evaluate(Tables(engine), load_catalog(), list(KPIS), grain="quarter"))


def _assert_equal(spark: pd.DataFrame, duck: pd.DataFrame) -> None:
    spark = _sorted(spark)
    assert set(duck["kpi"]) == set(KPIS) and len(duck) > 4 * len(KPIS)
    assert list(spark.columns) == list(duck.columns)
    pd.testing.assert_frame_equal(spark.drop(columns="value"), duck.drop(columns="value"), check_dtype=False)
    pd.testing.assert_series_equal(spark["value"].astype(float), duck["value"].astype(float), rtol=1e-9)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in frame.columns if c not in ("value", "label", "unit")]
    return frame.sort_values(keys).reset_index(drop=True)


def test_kpis_on_a_standalone_cluster_equal_duckdbs(cluster, company: Path, duckdb_values, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "spark.parquet"
    env = {**cluster.env(), "PYTHONPATH": f"{REPO / 'src'}"}
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, cluster.url, str(company), str(out), json.dumps(list(KPIS))],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-5000:]
    assert json.loads(result.stdout.splitlines()[-1])["master"] == cluster.url  # the cluster ran it, not local[…]
    _assert_equal(pd.read_parquet(out), duckdb_values)


CONNECT_DRIVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from revalign.engine import connect
    from revalign.kpis import evaluate, load_catalog
    from revalign.model.access import Tables
    from revalign.model.tables import TABLES

    url, data, out, kpis = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    engine = connect(url)
    for name in TABLES:
        engine.load_parquet(name, data / name)
    evaluate(Tables(engine), load_catalog(), kpis, grain="quarter").to_parquet(out)
    print(json.dumps({"session": type(engine.con._session).__module__}))
    """
)


def test_kpis_through_spark_connect_equal_duckdbs(company: Path, duckdb_values, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """The Connect client runs in a child process too: pyspark refuses a Connect session in a process that already
    holds a classic local one (the other Spark tests' shared session)."""
    server = start_connect_server(tmp_path_factory.mktemp("spark-connect"))
    out = tmp_path_factory.mktemp("connect-out") / "spark.parquet"
    try:
        env = {**server.env(), "PYTHONPATH": f"{REPO / 'src'}"}
        result = subprocess.run(
            [sys.executable, "-c", CONNECT_DRIVER, server.url, str(company), str(out), json.dumps(list(KPIS))],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-5000:]
        assert json.loads(result.stdout.splitlines()[-1])["session"] == "pyspark.sql.connect.session"
        _assert_equal(pd.read_parquet(out), duckdb_values)
    finally:
        server.stop()
