"""Warehouses revalign does not run itself: Snowflake, BigQuery, Databricks, ClickHouse, Trino, MotherDuck.

Every KPI is an Ibis expression, so any backend Ibis compiles for can run the catalog; what differs is a few
capabilities, held here as the class flags of :class:`~revalign.engine.base.Engine` (in the spirit of Ibis's own
per-backend compiler tables):

==========  ============  ==============  =======  =========================================================
backend     exact median  integer ranges  caching  notes
==========  ============  ==============  =======  =========================================================
snowflake   yes           yes             yes
bigquery    **no**        yes             yes      median / quantile → ``APPROX_QUANTILES`` (approximate)
databricks  yes           yes             yes      or ``spark://`` / ``sc://`` with a Spark engine
clickhouse  yes           yes             yes
trino       **no**        yes             **no**   median / quantile → ``approx_percentile``; no temp tables
motherduck  yes           yes             yes      DuckDB in the cloud (``md:`` database)
==========  ============  ==============  =======  =========================================================

The test suite compiles the whole default catalog for each dialect (``tests/engine/test_warehouse_dialects.py``)
but has no server for any of them: connecting needs the backend's Ibis extra (``pip install
'ibis-framework[snowflake]'`` …), and the URL is Ibis's own (``ibis.connect``; docs/engines.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

import ibis

from revalign.engine.base import Engine
from revalign.errors import EngineError


class WarehouseEngine(Engine):
    """An Ibis backend reached by ``ibis.connect(url)``; subclasses name the dialect and its capabilities."""

    name: ClassVar[str] = "warehouse"
    transactional: ClassVar[bool] = False  # revalign issues no BEGIN/COMMIT there; a load's log row is its marker
    extra: ClassVar[str] = ""
    """The ``ibis-framework[…]`` extra that installs the backend's driver."""

    @classmethod
    def from_url(cls, url: str) -> WarehouseEngine:
        try:
            con = cls.open(url)
        except ImportError as exc:
            raise EngineError(
                f"The {cls.name} engine needs its Ibis driver: pip install 'ibis-framework[{cls.extra}]' ({exc})."
            ) from exc
        except Exception as exc:  # the driver's own message (credentials, network, unknown database)
            raise EngineError(f"Could not connect to {cls.name} at {_redacted(url)}: {exc}") from exc
        return cls(con, url)

    @classmethod
    def open(cls, url: str) -> Any:
        """The Ibis backend for ``url`` (Ibis reads the URL; each backend documents its own form)."""
        return ibis.connect(url)

    @property
    def dialect(self) -> str:
        return self.name


def _redacted(url: str) -> str:
    """``url`` without a password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


class SnowflakeEngine(WarehouseEngine):
    """``snowflake://user:password@account/database/schema?warehouse=…``."""

    name: ClassVar[str] = "snowflake"
    extra: ClassVar[str] = "snowflake"


class BigQueryEngine(WarehouseEngine):
    """``bigquery://project/dataset``: Ibis has no exact median for BigQuery, so medians run approximately."""

    name: ClassVar[str] = "bigquery"
    extra: ClassVar[str] = "bigquery"
    exact_median: ClassVar[bool] = False


class DatabricksEngine(WarehouseEngine):
    """``databricks://…`` (a SQL warehouse through Ibis's Databricks backend)."""

    name: ClassVar[str] = "databricks"
    extra: ClassVar[str] = "databricks"


class ClickHouseEngine(WarehouseEngine):
    """``clickhouse://user:password@host:8123/database``."""

    name: ClassVar[str] = "clickhouse"
    extra: ClassVar[str] = "clickhouse"


class TrinoEngine(WarehouseEngine):
    """``trino://user@host:8080/catalog/schema``: approximate medians, and no temporary tables to cache in."""

    name: ClassVar[str] = "trino"
    extra: ClassVar[str] = "trino"
    exact_median: ClassVar[bool] = False
    caching: ClassVar[bool] = False


class MotherDuckEngine(WarehouseEngine):
    """``motherduck://database`` (or ``md://database``): DuckDB's cloud service, reached as ``md:database``."""

    name: ClassVar[str] = "motherduck"
    extra: ClassVar[str] = "duckdb"

    @classmethod
    def open(cls, url: str) -> Any:
        return ibis.duckdb.connect("md:" + url.split("://", 1)[1])

    @property
    def dialect(self) -> str:
        return "duckdb"


WAREHOUSES: tuple[type[WarehouseEngine], ...] = (
    SnowflakeEngine,
    BigQueryEngine,
    DatabricksEngine,
    ClickHouseEngine,
    TrinoEngine,
    MotherDuckEngine,
)
"""Every warehouse engine, by its :attr:`~Engine.name` (also its URL scheme)."""
