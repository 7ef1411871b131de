"""④ The engine abstraction: the only code that knows which database runs the Ibis expressions.

Everything above this package builds Ibis expressions and hands them to an :class:`Engine`. Backend
differences are capability flags on the subclasses (``engine/duckdb.py``, ``engine/postgres.py``,
``engine/spark.py``), in the spirit of Ibis's per-backend compiler tables; no backend name appears elsewhere.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, ClassVar

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from revalign.errors import EngineError, UnknownNameError


class Engine:
    """A connected Ibis backend plus what revalign needs to know about it.

    Subclasses set the class-level capability flags and implement :meth:`_connect`.
    """

    name: ClassVar[str] = "base"
    exact_median: ClassVar[bool] = True
    """Whether the backend computes ``median``/``quantile`` exactly. Where it cannot (BigQuery, Trino: Ibis has
    no exact rule for them), :meth:`prepare` rewrites them to the backend's approximate median and quantile, so
    the two median KPIs still run there, approximately (docs/engines.md)."""
    integer_ranges: ClassVar[bool] = True
    """Whether ``ibis.range(lo, hi).unnest()`` compiles (cumulative windows and snapshots expand day ranges)."""
    caching: ClassVar[bool] = True
    """Whether ``Table.cache()`` works (a temporary table): the funnel and channels cache shared inputs."""
    supports_temp_tables: ClassVar[bool] = True
    transactional: ClassVar[bool] = True
    """Whether :meth:`transaction` makes its writes atomic (DuckDB, Postgres) or is best-effort (Spark: no
    multi-table transactions; a load's log row, written last, is then the only commit marker)."""

    def __init__(self, con: Any, url: str) -> None:
        self.con = con
        self.url = url
        self._transaction_depth = 0

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_url(cls, url: str) -> Engine:
        raise NotImplementedError  # each backend module implements it; connect() dispatches by scheme

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url!r}>"

    # -- reading ------------------------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        """Tables in the project's database, without Ibis's temporary in-memory tables."""
        return sorted(t for t in self.con.list_tables() if not t.startswith("ibis_"))

    def has_table(self, name: str) -> bool:
        return name in self.con.list_tables()

    def table(self, name: str) -> ir.Table:
        """The table ``name`` as an Ibis expression (lazy: nothing is read)."""
        if not self.has_table(name):
            raise UnknownNameError("table", name, self.list_tables())
        return self.con.table(name)

    def prepare(self, expr: ir.Expr) -> ir.Expr:
        """``expr`` as this backend can run it: exact medians and quantiles made approximate where the backend
        has no exact ones (:attr:`exact_median`); unchanged elsewhere."""
        return expr if self.exact_median else approximate_quantiles(expr)

    def cache(self, table: ir.Table) -> ir.Table:
        """``table.cache()`` where the backend has temporary tables (:attr:`caching`); ``table`` itself where not."""
        return table.cache() if self.caching else table

    def execute(self, expr: ir.Expr, **kwargs: Any) -> Any:
        """Run ``expr`` and return pandas (DataFrame, Series or scalar)."""
        try:
            return self.con.execute(self.prepare(expr), **kwargs)
        except Exception as exc:  # re-raised with the engine named, keeping the cause
            raise EngineError(f"{self.name} could not run the expression: {exc}") from exc

    def to_pyarrow(self, expr: ir.Expr) -> pa.Table:
        return self.con.to_pyarrow(self.prepare(expr))

    def to_sql(self, expr: ir.Expr, pretty: bool = True) -> str:
        """The SQL this engine would run for ``expr`` (compiling never touches data)."""
        return str(ibis.to_sql(self.prepare(expr), dialect=self.dialect, pretty=pretty))

    def compile(self, expr: ir.Table) -> str:
        """The SQL text :meth:`execute` runs for ``expr``, unformatted (what a compiled-SQL cache keeps)."""
        return str(self.con.compile(self.prepare(expr)))

    def run_sql(self, sql: str, schema: ibis.Schema) -> pd.DataFrame:
        """Run SQL text :meth:`compile` wrote; the frame :meth:`execute` gives for the expression (``schema``: its
        result schema, which converts the driver's values the same way).

        Backends with a driver revalign knows run the text as it is (no Ibis expression is built or compiled);
        this fallback wraps it in an Ibis table, which parses it again and so saves less.
        """
        frame = self.execute(self.con.sql(sql, schema=schema))
        assert isinstance(frame, pd.DataFrame)  # a table expression always executes to a frame
        return frame

    def _sql_error(self, exc: Exception) -> EngineError:
        return EngineError(f"{self.name} could not run the compiled SQL: {exc}")

    @property
    def dialect(self) -> str:
        return self.con.name

    # -- writing ------------------------------------------------------------------------------------
    def write(
        self,
        name: str,
        data: pd.DataFrame | pa.Table | ir.Table,
        *,
        schema: ibis.Schema | None = None,
        mode: str = "overwrite",
    ) -> None:
        """Create or replace (``mode="overwrite"``) or append to (``mode="append"``) table ``name``.

        ``schema`` casts the data first, so an empty frame still creates correctly typed columns.
        """
        if mode not in ("overwrite", "append"):
            raise EngineError(f"write mode must be 'overwrite' or 'append'. Got {mode!r} instead.")
        obj = self._prepare(data, schema)
        if mode == "append" and self.has_table(name):
            self.con.insert(name, obj)
        else:
            self.con.create_table(name, obj, overwrite=True)

    def _prepare(self, data: pd.DataFrame | pa.Table | ir.Table, schema: ibis.Schema | None) -> Any:
        if isinstance(data, ir.Table):
            return data.cast(dict(schema.items())) if schema is not None else data
        if isinstance(data, pd.DataFrame):
            data = pa.Table.from_pandas(data, preserve_index=False)
        if schema is not None:
            data = data.select(list(schema.names)).cast(schema.to_pyarrow())
        # One chunk per column: Spark's Arrow path rejects chunked arrays and falls back to a slow row path.
        return data.combine_chunks()

    def load_parquet(self, name: str, path: str | Path) -> int:
        """Create table ``name`` from a Parquet file, or a folder / glob of Parquet parts; returns its row count.

        Uses the backend's own Parquet reader (DuckDB, Spark) so large simulated data never passes through
        pandas; backends without one get the file streamed in Arrow batches.
        """
        path = Path(path)
        pattern = str(path / "*.parquet") if path.is_dir() else str(path)
        reader = getattr(self.con, "read_parquet", None)
        if reader is not None and self.name in ("duckdb", "spark"):
            source = reader(pattern)
            self.con.create_table(name, source, overwrite=True)
        else:
            import pyarrow.dataset as ds

            dataset = ds.dataset(pattern if path.is_dir() is False else str(path), format="parquet")
            first = True
            for batch in dataset.to_batches(batch_size=200_000):
                self.write(name, pa.Table.from_batches([batch]), mode="overwrite" if first else "append")
                first = False
            if first:
                self.write(name, dataset.schema.empty_table())
        return int(self.execute(self.table(name).count()))

    # -- sharing the store with other processes (a DuckDB reader overrides these: engine/duckdb.py) ----------
    def session(self) -> AbstractContextManager[None]:
        """Hold the store for one unit of work (a server request); a no-op for a server database."""
        return nullcontext()

    def change_token(self) -> Hashable:
        """A cheap value that moves when another process may have written; ``None``: cannot tell."""
        return None

    # -- one load, one transaction -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block's writes (creates, replaces, inserts, drops) as one transaction: all or nothing.

        A load writes a dozen tables; if the process dies (``kill -9``, power cut) or raises half-way, the store
        must show either none of those writes or all of them. DuckDB and PostgreSQL have transactional DDL, and
        Ibis issues every statement of a backend on the one connection this engine holds, so a ``BEGIN`` before
        and a ``COMMIT`` after the block cover them all (a crash before ``COMMIT`` is rolled back by the
        database on its next open, or by the server when the connection drops). Nested blocks join the outer
        one. On an engine that is not :attr:`transactional` the block simply runs.
        """
        if not self.transactional or self._transaction_depth:
            self._transaction_depth += 1
            try:
                yield
            finally:
                self._transaction_depth -= 1
            return
        self._transaction_depth = 1
        try:
            with self._begin():
                yield
        finally:
            self._transaction_depth = 0

    @contextmanager
    def _begin(self) -> Iterator[None]:
        """One outermost transaction in SQL (``BEGIN`` … ``COMMIT``, ``ROLLBACK`` on an error); drivers that
        track transactions themselves (psycopg) override this with their own context manager."""
        self.con.raw_sql("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.raw_sql("ROLLBACK")
            raise
        self.con.raw_sql("COMMIT")

    def drop(self, name: str) -> None:
        if self.has_table(name):
            self.con.drop_table(name)

    def close(self) -> None:
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect is not None:
            disconnect()


def _approximate(node: ops.Node, kwargs: dict[str, Any] | None) -> ops.Node:
    """One node of :func:`approximate_quantiles`' rewrite (Ibis's ``Node.replace`` protocol: ``kwargs`` are the
    node's arguments with its children already rewritten, or ``None`` when none was)."""
    args = kwargs if kwargs is not None else dict(zip(node.__argnames__, node.__args__, strict=True))
    if isinstance(node, ops.Median):
        return ops.ApproxMedian(args["arg"], where=args["where"])
    if isinstance(node, ops.Quantile):
        return ops.ApproxQuantile(args["arg"], args["quantile"], where=args["where"])
    return node.__class__(**args) if kwargs is not None else node


def approximate_quantiles(expr: ir.Expr) -> ir.Expr:
    """``expr`` with every exact median and quantile replaced by the approximate one, for backends without
    exact ones (BigQuery's ``APPROX_QUANTILES``, Trino's ``approx_percentile``)."""
    return expr.op().replace(_approximate).to_expr()


def memtable(data: pd.DataFrame | pa.Table | Mapping[str, Any], schema: ibis.Schema | None = None) -> ir.Table:
    """An in-memory Ibis table: small inputs (fixtures, lookups) that an expression joins against."""
    return ibis.memtable(data, schema=schema)
