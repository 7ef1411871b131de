"""PostgreSQL engine: a shared server when the data or the team outgrows one laptop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import ibis
import pandas as pd
from ibis.backends.postgres.converter import PostgresPandasData

from revalign.engine.base import Engine
from revalign.errors import EngineError


class PostgresEngine(Engine):
    """``postgres://user:password@host:port/database`` (``postgresql://`` also accepted)."""

    name: ClassVar[str] = "postgres"
    exact_median: ClassVar[bool] = True

    @classmethod
    def from_url(cls, url: str) -> PostgresEngine:
        normal = "postgres://" + url.split("://", 1)[1]
        try:
            con = ibis.connect(normal)
        except Exception as exc:
            raise EngineError(
                f"Could not connect to PostgreSQL at {url!r}: {exc}. Check that the server runs and the URL "
                "has the form postgres://user:password@host:port/database."
            ) from exc
        return cls(con, url)

    def run_sql(self, sql: str, schema: ibis.Schema) -> pd.DataFrame:
        """The text run on the psycopg connection and converted as Ibis's ``execute`` converts."""
        con = self.con.con
        try:
            with con.cursor() as cur, con.transaction():
                rows = cur.execute(sql).fetchall()
        except Exception as exc:  # psycopg's errors, re-raised with the engine named
            raise self._sql_error(exc) from exc
        frame = pd.DataFrame.from_records(rows, columns=list(schema.names), coerce_float=True)
        return PostgresPandasData.convert_table(frame, schema)

    @contextmanager
    def _begin(self) -> Iterator[None]:
        """psycopg's own transaction block: Ibis wraps each of its statements in ``connection.transaction()``,
        which inside an outer block becomes a savepoint, so the outer block commits every write at once (a raw
        ``BEGIN`` would confuse psycopg's bookkeeping of the autocommit connection)."""
        with self.con.con.transaction():
            yield
