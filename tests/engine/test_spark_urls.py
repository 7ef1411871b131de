"""Spark engine URLs and settings, without starting Spark: which master a URL names, which settings a session
gets (loopback and a 2 GB heap for ``local[…]`` only), and ``engine_conf`` in revalign.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from revalign.engine import connect
from revalign.engine.spark import COMMON_CONF, LOCAL_CONF, SparkTarget, parse_url, session_conf
from revalign.errors import ConfigError, EngineError
from revalign.settings import load_settings


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("spark://", SparkTarget("local", "local[2]")),
        ("spark://local", SparkTarget("local", "local[2]")),
        ("spark://local[4]", SparkTarget("local", "local[4]")),
        ("spark://local[*]", SparkTarget("local", "local[*]")),
        # the scheme is kept: Spark's master URL for a standalone cluster is spark://host:port
        ("spark://10.0.0.5:7077", SparkTarget("standalone", "spark://10.0.0.5:7077")),
        ("spark://master.internal", SparkTarget("standalone", "spark://master.internal:7077")),
        ("spark://m1:7077,m2:7077", SparkTarget("standalone", "spark://m1:7077,m2:7077")),
        ("SPARK://m1:7077", SparkTarget("standalone", "spark://m1:7077")),
        ("sc://connect.internal:15002", SparkTarget("connect", "sc://connect.internal:15002")),
        ("sc://h:443/;use_ssl=true;token=abc", SparkTarget("connect", "sc://h:443/;use_ssl=true;token=abc")),
    ],
)
def test_a_url_names_its_spark(url: str, target: SparkTarget) -> None:
    assert parse_url(url) == target


@pytest.mark.parametrize("url", ["sc://", "spark://host:port", "spark://:7077", "postgres://h/db"])
def test_a_malformed_spark_url_says_what_to_write(url: str) -> None:
    with pytest.raises(EngineError, match="Use "):
        parse_url(url)


def test_loopback_and_the_2_gb_heap_apply_to_local_spark_only() -> None:
    local = session_conf(parse_url("spark://local[2]"))
    cluster = session_conf(parse_url("spark://m:7077"))
    assert LOCAL_CONF.items() <= local.items()
    assert not set(LOCAL_CONF) & set(cluster)
    assert COMMON_CONF.items() <= cluster.items()
    connect_conf = session_conf(parse_url("sc://h:15002"))
    assert "spark.ui.enabled" not in connect_conf and connect_conf["spark.sql.session.timeZone"] == "UTC"


def test_engine_conf_adds_to_and_overrides_revaligns_settings() -> None:
    conf = session_conf(
        parse_url("spark://m:7077"), {"spark.executor.memory": "4g", "spark.sql.shuffle.partitions": "64"}
    )
    assert conf["spark.executor.memory"] == "4g" and conf["spark.sql.shuffle.partitions"] == "64"
    local = session_conf(parse_url("spark://local[2]"), {"spark.driver.memory": "6g"})
    assert local["spark.driver.memory"] == "6g" and local["spark.driver.host"] == "127.0.0.1"


def test_engine_conf_in_revalign_yaml(tmp_path: Path) -> None:
    (tmp_path / "revalign.yaml").write_text(
        "engine: spark://m:7077\nengine_conf:\n  spark.executor.memory: 4g\n  spark.executor.cores: 2\n"
        "  spark.dynamicAllocation.enabled: true\n",
        encoding="utf-8",
    )
    settings = load_settings(tmp_path)
    assert settings.engine_conf == {
        "spark.executor.memory": "4g",
        "spark.executor.cores": "2",
        "spark.dynamicAllocation.enabled": "true",
    }
    (tmp_path / "revalign.yaml").write_text("engine_conf:\n  executor.memory: 4g\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"revalign.yaml: engine_conf: .*spark\.\* settings; got executor.memory"):
        load_settings(tmp_path)


def test_engine_conf_on_an_engine_that_takes_none_is_an_error() -> None:
    with pytest.raises(EngineError, match="engine_conf applies to Spark engines only"):
        connect("duckdb://:memory:", conf={"spark.executor.memory": "4g"})


def test_a_warehouse_without_its_driver_says_what_to_install() -> None:
    with pytest.raises(EngineError, match=r"needs its Ibis driver: pip install 'ibis-framework\[snowflake\]'") as info:
        connect("snowflake://user:secret@account/db/schema")
    assert "secret" not in str(info.value)


def test_an_unknown_scheme_lists_the_engines() -> None:
    with pytest.raises(EngineError, match="spark://host:7077, sc://host:15002"):
        connect("oracle://h/db")
