"""The query API: small, immutable, lazy KPI queries that compile to Ibis and run on one engine's tables.

    project.kpi("win_rate").by("segment").grain("quarter").period("2026-Q1", "2026-Q4").to_pandas()
    project.kpi("win_rate").explain(engine="postgres")     # SQL only, never touches data

A query holds the catalog, the :class:`~revalign.model.access.Tables` it reads and the fiscal calendar, never
the ``Project`` (which sits above this package). Each method returns a new query (nothing runs until
``to_pandas``), so queries can be shared and refined. Results come back in long format:
``kpi, period_start, <dims…>, value`` (plus comparison columns).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
from ibis.common.exceptions import IbisError

from revalign.definitions.kpis.catalog import Catalog
from revalign.engine import Engine
from revalign.errors import EngineError, UnknownNameError
from revalign.kpis import availability, batch, store
from revalign.kpis.cache import RESULTS, kpi_hash
from revalign.kpis.compile import Compiler, Request
from revalign.kpis.rows import RowBuilder
from revalign.kpis.sql_cache import COMPILED, CompiledSql, SqlCache, sql_key
from revalign.model import calendar
from revalign.model.access import Tables, unbound_table
from revalign.model.ledger import TableProvider, as_of_tables

COMPARISONS = ("previous_period", "previous_year")
DEFINITIONS = ("historical", "current")
DIALECTS = {"spark": "pyspark", "postgresql": "postgres", "pg": "postgres"}
_ENGINE_IDS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _engine_id(engine: Engine) -> str:
    """A per-connection token for the result cache key (two in-memory DuckDBs share a URL but not data)."""
    try:
        return _ENGINE_IDS.setdefault(engine, uuid.uuid4().hex)
    except TypeError:
        return f"{engine.url}:{id(engine)}"


def _to_date(value: str | dt.date | None, fiscal_start: int, end: bool = False) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    period = calendar.parse_period(value, fiscal_start)
    return period.end if end else period.start


@dataclasses.dataclass(frozen=True)
class QueryOptions:
    """What a :class:`KpiQuery` was refined with (each refinement method sets one field)."""

    grain: str = "month"
    by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    as_of: dt.datetime | dt.date | None = None
    compare: str | None = None
    definitions: str = "historical"
    use_cache: bool = True
    skip_unreachable: bool = False


@dataclasses.dataclass(frozen=True)
class KpiQuery:
    """A lazy request for one or more KPIs. Build it with ``project.kpi(name)`` or :func:`query`."""

    catalog: Catalog
    tables: Tables
    names: tuple[str, ...]
    fiscal_year_start_month: int = 1
    options: QueryOptions = QueryOptions()
    sql_cache: SqlCache | None = COMPILED
    """Where compiled SQL is kept across calls (:mod:`revalign.kpis.sql_cache`; a project's also keeps a file);
    ``None``: build and compile every request."""

    def __post_init__(self) -> None:
        for name in self.names:
            self.catalog.get(name)  # unknown names fail now, with suggestions

    # -- refinements ---------------------------------------------------------------------------------------------
    def _with(self, **changes: Any) -> KpiQuery:
        return dataclasses.replace(self, options=dataclasses.replace(self.options, **changes))

    def by(self, *dims: str) -> KpiQuery:
        """Slice by dimensions (channel, campaign, segment, region, team, owner, or any model dimension)."""
        return self._with(by=tuple(d for d in dims if d))

    def grain(self, grain: str) -> KpiQuery:
        """Time grain: day, week, month, quarter or year (quarters and years are fiscal), or ``all``: one value over
        every date (or over the ``period`` asked for)."""
        return self._with(grain=calendar.check_kpi_grain(grain))

    def period(self, start: str | dt.date | None = None, end: str | dt.date | None = None) -> KpiQuery:
        """Keep periods from ``start`` to ``end`` (labels like 2026-Q1 are inclusive; dates are half-open)."""
        fs = self.fiscal_year_start_month
        return self._with(start=_to_date(start, fs), end=_to_date(end, fs, end=True))

    def where(self, *conditions: str) -> KpiQuery:
        """Extra filters in the whitelisted expression language, e.g. ``"segment = 'enterprise'"``."""
        return self._with(where=self.options.where + tuple(c for c in conditions if c))

    def as_of(self, when: dt.date | dt.datetime | str | None) -> KpiQuery:
        """Evaluate on the data as known at the end of ``when`` (rebuilt from the ledger)."""
        if isinstance(when, str):
            when = dt.date.fromisoformat(when)
        return self._with(as_of=when)

    def compare(self, to: str | None = "previous_period") -> KpiQuery:
        """Add ``previous_value``, ``change`` and ``change_pct`` against the previous period or year."""
        if to is not None and to not in COMPARISONS:
            raise UnknownNameError("comparison", to, COMPARISONS)
        if to is not None and self.options.grain == calendar.ALL:
            raise ValueError("an all-time value has no previous period to compare with; pick a calendar grain")
        return self._with(compare=to)

    def definitions(self, which: str) -> KpiQuery:
        """``historical`` (default): each period under the definition then in force; ``current``: today's."""
        if which not in DEFINITIONS:
            raise ValueError(f"definitions must be 'historical' or 'current'. Got {which!r} instead.")
        return self._with(definitions=which)

    def no_cache(self) -> KpiQuery:
        """Compute even when the result cache holds the answer (and do not store it)."""
        return self._with(use_cache=False)

    def with_sql_cache(self, cache: SqlCache | None) -> KpiQuery:
        """Keep compiled SQL in ``cache`` (``None``: compile every time, as before the cache existed)."""
        return dataclasses.replace(self, sql_cache=cache)

    def skipping_unreachable(self, skip: bool = True) -> KpiQuery:
        """Leave out KPIs that cannot be sliced by every ``by`` dimension instead of raising."""
        return self._with(skip_unreachable=skip)

    # -- compile ------------------------------------------------------------------------------------------------
    def request(self, start: dt.date | None = None) -> Request:
        o = self.options
        return Request(
            grain=o.grain,
            by=o.by,
            where=o.where,
            start=start if start is not None else o.start,
            end=o.end,
            fiscal_year_start_month=self.fiscal_year_start_month,
            definitions=o.definitions,
        )

    def _compiler(self, bound: bool = True, share_aggregates: bool = False) -> Compiler:
        provider: TableProvider = self.tables.provider() if bound else unbound_table
        if self.options.as_of is not None:
            provider = as_of_tables(provider, self.options.as_of)
        return Compiler(self.catalog, provider, share_aggregates=share_aggregates)

    def to_ibis(self, name: str | None = None, *, bound: bool = True) -> ir.Table:
        """The Ibis expression for one KPI (default: the first): period_start, <dims…>, value."""
        return self._expr(self._compiler(bound), name or self.names[0])

    def rows(self, name: str | None = None) -> ir.Table:
        """The rows KPI ``name`` (default: the first) aggregates, lazy, with ``__kpi_time`` (a drill-down's list).

        See :meth:`revalign.kpis.compile.Compiler.rows`.
        """
        return self._compiler().rows(self.catalog.get(name or self.names[0]))

    def _first_start(self) -> dt.date | None:
        """The first day to compute: ``start``, or with a comparison the start of the period it compares with."""
        o = self.options
        if o.compare and o.start is not None:
            first = calendar.period_start(o.start, o.grain, self.fiscal_year_start_month)
            return calendar.add_periods(first, o.grain, -self._lag())
        return o.start

    def _expr(self, compiler: Compiler, name: str) -> ir.Table:
        """KPI ``name`` compiled by ``compiler`` (one compiler serves a whole batch and shares its inputs)."""
        o = self.options
        try:
            return compiler.compile(name, self.request(self._first_start()))
        except UnknownNameError as exc:
            if any(d == exc.name for d in o.by):
                raise UnknownNameError(
                    f"dimension for KPI {name!r}", exc.name, self.catalog.dimensions_of(name)
                ) from None
            raise

    def explain(self, engine: str | None = None) -> str:
        """The SQL the engine (``duckdb``, ``postgres``, ``spark`` …; default the tables' own) would run."""
        dialect = engine or self.tables.engine.dialect
        dialect = DIALECTS.get(dialect, dialect)
        # loading a backend registers its compile options (pyspark's compiler needs them)
        with contextlib.suppress(AttributeError, ImportError):
            getattr(ibis, dialect)
        o = self.options
        parts = []
        for name in self.names:
            try:
                sql = ibis.to_sql(self.to_ibis(name, bound=False), dialect=dialect)
            except IbisError as exc:  # the dialect's compiler cannot translate an operation this KPI uses
                raise EngineError(f"KPI {name!r} cannot be written as {dialect} SQL: {exc}") from exc
            parts.append(f"-- {name} ({o.grain}{', by ' + ', '.join(o.by) if o.by else ''})\n{sql}")
        return "\n\n".join(parts)

    # -- run ----------------------------------------------------------------------------------------------------
    def _lag(self) -> int:
        if self.options.compare == "previous_year":
            return {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}[self.options.grain]
        return 1

    def _cache_key(self, name: str, version: str) -> tuple[Any, ...]:
        defs = kpi_hash(self.catalog, name)
        o = self.options
        return (
            _engine_id(self.tables.engine),
            version,
            name,
            defs,
            o.grain,
            o.by,
            o.where,
            o.start,
            o.end,
            str(o.as_of),
            o.compare,
            o.definitions,
            self.fiscal_year_start_month,
        )

    def _finish(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """One KPI's rows as returned: normalised types and order, comparison columns, the ``kpi`` column."""
        o = self.options
        frame = _normalise(frame, o.by)
        if o.compare:
            frame = _compare(frame, o.by, o.grain, self._lag())
            if o.start is not None:
                frame = frame[frame["period_start"] >= o.start]
        frame.insert(0, "kpi", name)
        return frame.reset_index(drop=True)

    def _run(self, names: Sequence[str]) -> dict[str, pd.DataFrame]:
        """Compute ``names``: one query per batch, its SQL from the SQL cache or compiled with one compiler
        (shared inputs, one table listing) built only when some batch misses."""
        out: dict[str, pd.DataFrame] = {}
        engine = self.tables.engine
        compiler: Compiler | None = None
        for group in batch.chunks(list(dict.fromkeys(names))):
            key = self._sql_key(group)
            compiled = self.sql_cache.get(key) if self.sql_cache is not None and key is not None else None
            if compiled is not None:
                frame = engine.run_sql(compiled.sql, compiled.schema)
            else:
                compiler = compiler or self._compiler(share_aggregates=True)
                expr = self._stacked(compiler, group)
                if self.sql_cache is not None and key is not None and not expr.op().find(ops.InMemoryTable):
                    compiled = CompiledSql(engine.compile(expr), expr.schema())
                    self.sql_cache.put(key, compiled)
                    frame = engine.run_sql(compiled.sql, compiled.schema)
                else:  # an in-memory table is registered with the engine only while its expression runs
                    frame = self.tables.to_pandas(expr)
            out.update(self._finish_stacked(frame, group))
        return out

    def _finish_stacked(self, frame: pd.DataFrame, names: Sequence[str]) -> dict[str, pd.DataFrame]:
        """Each KPI's rows of a stacked result, finished as :meth:`_finish` does. Without a comparison the
        frame is normalised once for every KPI, then split: a hundred small frames cost more than one large one
        (each KPI's (period, dims) are unique, so the order within a KPI is the same either way)."""
        if self.options.compare:
            return {name: self._finish(name, rows) for name, rows in batch.split(frame, names).items()}
        out = batch.split(_normalise(frame, (batch.KPI_COLUMN, *self.options.by)), names)
        for name, rows in out.items():
            rows.insert(0, "kpi", name)
        return out

    def _sql_key(self, group: Sequence[str]) -> str | None:
        """The SQL cache key of one batch (see :func:`revalign.kpis.sql_cache.sql_key`), or ``None`` when its
        SQL is not to be reused (no cache, or tables whose expressions carry data of their own)."""
        if self.sql_cache is None:
            return None
        shape = self.tables.schema_version()
        if shape is None:
            return None
        request = (self.request(self._first_start()), self.options.as_of)
        return sql_key(self.catalog, group, request, self.tables.engine, shape)

    def _stacked(self, compiler: Compiler, group: Sequence[str]) -> ir.Table:
        return compiler.bind(batch.stacked({n: self._expr(compiler, n) for n in group}))

    def batches(self, names: Sequence[str]) -> Iterator[tuple[list[str], ir.Table]]:
        """``names`` compiled by one compiler (shared inputs, one table listing) as stacked expressions
        ``kpi, period_start, <by…>, value`` of at most :data:`~revalign.kpis.batch.MAX_BRANCHES` KPIs each, ready
        to run (or to write into a table: the KPI store)."""
        compiler = self._compiler(share_aggregates=True)
        for group in batch.chunks(list(dict.fromkeys(names))):
            yield group, self._stacked(compiler, group)

    def _from_store(self, names: Sequence[str], version: str) -> dict[str, pd.DataFrame]:
        """The KPIs of ``names`` the KPI store answers (see :mod:`revalign.kpis.store`), finished like live ones."""
        o = self.options
        if o.where or o.as_of is not None or o.definitions != "historical" or not names:
            return {}
        req = store.StoreRequest(o.grain, o.by, self._first_start(), o.end, self.fiscal_year_start_month)
        covered, frame = store.read(self.tables, self.catalog, names, version, req)
        return self._finish_stacked(frame, covered)

    def unavailable(self) -> dict[str, str]:
        """KPI → why it has no value: a table it reads was never loaded (undefined, not zero; see
        :mod:`revalign.kpis.availability`). :meth:`to_pandas` returns no rows for these KPIs."""
        present = set(self.tables.engine.list_tables())  # listed once: listing costs a query per call
        gone = availability.missing_tables(self.catalog, self.names, present.__contains__)
        return {name: availability.reason(tables) for name, tables in gone.items()}

    def _reachable(self) -> tuple[str, ...]:
        """The KPIs to compute: those whose tables are loaded and (``skip_unreachable``) that reach every ``by``
        dimension."""
        o = self.options
        gone = self.unavailable()
        names = tuple(n for n in self.names if n not in gone)
        if not (o.skip_unreachable and o.by):
            return names
        plain = [d for d in o.by if "__" not in d]
        return tuple(n for n in names if self.catalog.can_slice(n, plain))

    def to_pandas(self) -> pd.DataFrame:
        """Run the query: one long frame ``kpi, period_start, <dims…>, value`` sorted by KPI, period, dims.

        KPIs already in the result cache (same data version, definition and request) are not recomputed, nor are
        those the KPI store answers (:mod:`revalign.kpis.store`: materialised by the last refresh); the others run
        together in one engine query (see :mod:`revalign.kpis.batch`) and are cached one by one.
        """
        o = self.options
        names = self._reachable()
        results: dict[str, pd.DataFrame] = {}
        keys: dict[str, tuple[Any, ...]] = {}
        if o.use_cache:
            version = self.tables.data_version()
            for name in dict.fromkeys(names):
                keys[name] = self._cache_key(name, version)
                hit = RESULTS.get(keys[name])
                if hit is not None:
                    results[name] = hit
        missing = [n for n in dict.fromkeys(names) if n not in results]
        if o.use_cache and missing:
            for name, frame in self._from_store(missing, version).items():
                RESULTS.put(keys[name], frame)
                results[name] = frame
            missing = [n for n in missing if n not in results]
        if missing:
            for name, frame in self._run(missing).items():
                if o.use_cache:
                    RESULTS.put(keys[name], frame)
                results[name] = frame
        columns = ["kpi", "period_start", *o.by, "value"]
        if o.compare:
            columns += ["previous_value", "change", "change_pct"]
        frames = [results[n] for n in names]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        return out[columns].reset_index(drop=True)


def _normalise(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """period_start as datetime.date, dims as str, value as float, sorted: identical across engines."""
    frame = frame.copy()
    frame["period_start"] = pd.to_datetime(frame["period_start"]).dt.date
    for d in by:
        frame[d] = pd.Series([None if pd.isna(v) else str(v) for v in frame[d]], index=frame.index, dtype=object)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame = frame[["period_start", *by, "value"]]
    return frame.sort_values(["period_start", *by], kind="stable").reset_index(drop=True)


def _compare(frame: pd.DataFrame, by: Sequence[str], grain: str, lag: int) -> pd.DataFrame:
    """Attach the value of the period ``lag`` periods earlier (same dims). Works on aggregated rows only."""
    prev = frame.copy()
    prev["period_start"] = [calendar.add_periods(d, grain, lag) for d in prev["period_start"]]
    prev = prev.rename(columns={"value": "previous_value"})
    out = frame.merge(prev, on=["period_start", *by], how="left")
    out["change"] = out["value"] - out["previous_value"]
    denom = out["previous_value"].where(out["previous_value"] != 0)
    out["change_pct"] = out["change"] / denom.abs()
    return out


def query(
    tables: Tables, catalog: Catalog, names: str | Iterable[str], *, fiscal_year_start_month: int = 1
) -> KpiQuery:
    """A :class:`KpiQuery` for one or several KPIs of ``catalog`` over ``tables``."""
    names = (names,) if isinstance(names, str) else tuple(names)
    return KpiQuery(catalog, tables, names, fiscal_year_start_month)


def kpi_rows(
    tables: Tables, catalog: Catalog, name: str, *, on: dt.date | None = None, where: Sequence[str] = ()
) -> ir.Table:
    """The rows KPI ``name`` aggregates (lazy): what a drill-down lists.

    The model table's own columns plus ``__kpi_time`` (or a snapshot's validity) and ``__kpi_value`` (what each
    row adds); ``on`` picks the definition in force that day, ``where`` adds a slice. See
    :class:`revalign.kpis.rows.RowBuilder`.
    """
    return RowBuilder(catalog, tables.provider()).rows(name, on=on, where=where)


def evaluate(
    tables: Tables,
    catalog: Catalog,
    kpis: str | Iterable[str],
    grain: str = "month",
    by: Sequence[str] = (),
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    where: str | Sequence[str] | None = None,
    as_of: dt.date | dt.datetime | str | None = None,
    *,
    fiscal_year_start_month: int = 1,
    compare: str | None = None,
    definitions: str = "historical",
    skip_unreachable: bool = False,
) -> pd.DataFrame:
    """Evaluate KPIs: a long frame ``kpi, period_start, <by…>, value`` (see :class:`KpiQuery`).

    A KPI whose semantic models cannot reach a ``by`` dimension raises :class:`UnknownNameError` listing the
    dimensions it can be sliced by; ``skip_unreachable=True`` leaves such KPIs out instead.
    """
    q = query(tables, catalog, kpis, fiscal_year_start_month=fiscal_year_start_month)
    q = q.grain(grain).by(*by).period(start, end).as_of(as_of).skipping_unreachable(skip_unreachable)
    if where:
        q = q.where(*([where] if isinstance(where, str) else where))
    if compare:
        q = q.compare(compare)
    return q.definitions(definitions).to_pandas()
