"""④ Source databases: where a mapping's warehouse tables are read from (the project's engine or another database).

A RevOps team's CRM often already sits in a warehouse (a Fivetran or Airbyte sync of Salesforce or HubSpot). A
mapping target with ``tables:`` reads such tables in place (``sources.warehouse``); this module is the only code
that knows how to reach them, so the loader above it sees Arrow tables and never a backend:

- no ``database``: the project's own engine (a schema of its DuckDB file or PostgreSQL database, a Spark
  catalog database), through Ibis;
- ``database`` a folder: Parquet, ``<folder>/[<schema>/]<table>.parquet`` or a folder of parts (an export of
  the warehouse, or a lake folder);
- ``database`` a URL (``postgres://user@host:5432/db``, ``duckdb:///path/file.duckdb``, any Ibis backend URL):
  a second connection held for the load, read-only in use. This works whatever the project's engine is
  (DuckDB's own postgres extension would need a download that an offline machine cannot make).

Every table is read whole into Arrow: the loader types, validates and diffs in memory anyway (``sources.load``).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from types import TracebackType
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.dataset as ds

from revalign.engine.base import Engine
from revalign.errors import SchemaError


class SourceDatabase:
    """The database a load reads its tables from; open for the load (``with``), closed after it."""

    def __init__(self, engine: Engine, database: str | Path | None = None) -> None:
        self.engine = engine
        self.database = str(database) if database is not None else None
        self._con: Any = None

    @property
    def folder(self) -> Path | None:
        """The Parquet folder, when the database is one."""
        if self.database is None or "://" in self.database:
            return None
        return Path(self.database)

    def label(self, table: str, schema: str | None) -> str:
        """How quarantine lines and the load log name the table: ``schema.table`` (and the folder, for Parquet)."""
        if self.folder is not None:
            return str(self.folder / schema / table) if schema else str(self.folder / table)
        return f"{schema}.{table}" if schema else table

    def __enter__(self) -> SourceDatabase:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _connection(self) -> Any:
        """The Ibis backend holding the tables: the engine's, or a second one for a database URL."""
        if self.database is None:
            return self.engine.con
        if self._con is None:
            url = self.database
            if url.split("://", 1)[0].lower() == "postgresql":
                url = "postgres://" + url.split("://", 1)[1]
            try:
                self._con = ibis.connect(url)
            except Exception as exc:
                raise SchemaError(
                    f"Could not open the source database {self.database!r}: {exc}. Give a folder of Parquet files "
                    "or a URL such as postgres://user:password@host:5432/db",
                    file=self.database,
                    rule="missing_file",
                ) from exc
        return self._con

    def read(self, table: str, schema: str | None) -> pa.Table:
        """Table ``table`` of ``schema`` as Arrow, or :class:`SchemaError` naming the tables that exist."""
        if self.folder is not None:
            return self._read_parquet(table, schema)
        con = self._connection()
        try:
            names = con.list_tables(database=schema) if schema else con.list_tables()
        except Exception as exc:
            raise SchemaError(
                f"The source database has no schema {schema!r} ({exc}). Pass the schema your connector writes "
                "(Fivetran names it after the connector)",
                file=self.label(table, schema),
                rule="missing_file",
            ) from exc
        if table not in names:
            raise SchemaError(_missing(table, names), file=self.label(table, schema), rule="missing_file")
        return con.table(table, database=schema).to_pyarrow() if schema else con.table(table).to_pyarrow()

    def _read_parquet(self, table: str, schema: str | None) -> pa.Table:
        assert self.folder is not None
        folder = self.folder / schema if schema else self.folder
        for path in (folder / f"{table}.parquet", folder / table):
            if path.is_file() or (path.is_dir() and any(path.glob("*.parquet"))):
                parts = [str(path)] if path.is_file() else sorted(str(p) for p in path.glob("*.parquet"))
                return ds.dataset(parts, format="parquet").to_table()
        names = sorted(p.name.removesuffix(".parquet") for p in folder.glob("*")) if folder.is_dir() else []
        raise SchemaError(_missing(table, names), file=self.label(table, schema), rule="missing_file")

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.disconnect()


def _missing(table: str, names: list[str]) -> str:
    close = difflib.get_close_matches(table, names, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return f"No table {table!r} in the source ({len(names)} tables there).{hint} Check the schema and the mapping"
