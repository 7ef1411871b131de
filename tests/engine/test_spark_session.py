"""An engine on a ``SparkSession`` the caller already has: revalign uses it as it is (no new session, no
settings changed), and reads what the caller's session holds."""

from __future__ import annotations

import pytest

from revalign.engine import Engine, connect
from revalign.engine.spark import SparkEngine, spark_session
from revalign.errors import EngineError

pytestmark = pytest.mark.spark


def test_connect_takes_an_existing_session(spark_session_engine: Engine) -> None:
    session = spark_session_engine.con._session
    session.sql("CREATE DATABASE IF NOT EXISTS existing_session")
    session.catalog.setCurrentDatabase("existing_session")
    session.createDataFrame([(1, 2.5), (2, 4.0)], ["id", "amount"]).write.mode("overwrite").saveAsTable("given")
    shuffle = session.conf.get("spark.sql.shuffle.partitions")
    engine = connect(session)
    assert isinstance(engine, SparkEngine) and engine.con._session is session
    assert engine.url == "spark://local[2]"
    table = engine.table("given")
    assert float(engine.execute(table.amount.sum())) == 6.5  # 2.5 + 4.0, written by the caller's own session
    assert session.conf.get("spark.sql.shuffle.partitions") == shuffle
    engine.close()
    assert session.range(1).count() == 1  # closing the engine leaves the caller's session running


def test_a_second_master_in_one_process_is_refused(spark_session_engine: Engine) -> None:
    with pytest.raises(EngineError, match="one process holds one"):
        spark_session("spark://127.0.0.1:7077")
    with pytest.raises(EngineError, match="other settings"):
        spark_session("local[2]", {"spark.executor.memory": "3g"})
