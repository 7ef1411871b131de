"""The query API: small, immutable, lazy KPI queries that compile to Ibis and run on the project's engine.

    project.kpi("win_rate").by("segment").grain("quarter").period("2026-Q1", "2026-Q4").to_pandas()
    project.kpi("win_rate").explain(engine="postgres")     # SQL only, never touches data

Each method returns a new query (nothing runs until ``to_pandas``), so queries can be shared and refined.
Results come back in long format: ``kpi, period_start, <dims…>, value`` (plus comparison columns).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.definitions.kpis.catalog import Catalog
from revalign.errors import UnknownNameError
from revalign.kpis import batch
from revalign.kpis.asof import as_of_tables
from revalign.kpis.cache import RESULTS, data_version, definition_hash
from revalign.kpis.compile import Compiler, Request
from revalign.model import calendar
from revalign.model.tables import TABLES

if TYPE_CHECKING:
    from revalign.project import Project

COMPARISONS = ("previous_period", "previous_year")
DIALECTS = {"spark": "pyspark", "postgresql": "postgres", "pg": "postgres"}
_ENGINE_IDS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _engine_id(engine: Any) -> str:
    """A per-connection token (two in-memory DuckDBs share a URL but not data)."""
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


def _bound_tables(project: Project) -> Callable[[str], ir.Table]:
    """The project's tables, listing the database once (listing is slow on some backends)."""
    engine = project.engine
    present = set(engine.con.list_tables())

    def provide(name: str) -> ir.Table:
        if name in present:
            return engine.con.table(name)
        return project.table(name)  # an empty typed table

    return provide


def _unbound(name: str) -> ir.Table:
    """A canonical table without data, for explain (compiling never touches data)."""
    return ibis.table(TABLES[name].schema, name=name)


@dataclasses.dataclass(frozen=True)
class KpiQuery:
    """A lazy request for one or more KPIs. Build it with ``project.kpi(name)`` or :func:`query`."""

    project: Project
    names: tuple[str, ...]
    catalog: Catalog
    grain_: str = "month"
    by_: tuple[str, ...] = ()
    where_: tuple[str, ...] = ()
    start_: dt.date | None = None
    end_: dt.date | None = None
    as_of_: dt.datetime | dt.date | None = None
    compare_: str | None = None
    definitions_: str = "historical"
    use_cache: bool = True
    skip_unreachable: bool = False

    def __post_init__(self) -> None:
        for name in self.names:
            self.catalog.get(name)  # unknown names fail now, with suggestions

    # -- refinements ---------------------------------------------------------------------------------------------
    def _with(self, **changes: Any) -> KpiQuery:
        return dataclasses.replace(self, **changes)

    @property
    def fiscal_year_start_month(self) -> int:
        return int(getattr(self.project.settings, "fiscal_year_start_month", 1))

    def by(self, *dims: str) -> KpiQuery:
        """Slice by dimensions (channel, campaign, segment, region, team, owner, or any model dimension)."""
        return self._with(by_=tuple(d for d in dims if d))

    def grain(self, grain: str) -> KpiQuery:
        """Time grain: day, week, month, quarter or year (quarters and years are fiscal)."""
        return self._with(grain_=calendar.check_grain(grain))

    def period(self, start: str | dt.date | None = None, end: str | dt.date | None = None) -> KpiQuery:
        """Keep periods from ``start`` to ``end`` (labels like 2026-Q1 are inclusive; dates are half-open)."""
        fs = self.fiscal_year_start_month
        return self._with(start_=_to_date(start, fs), end_=_to_date(end, fs, end=True))

    def where(self, *conditions: str) -> KpiQuery:
        """Extra filters in the whitelisted expression language, e.g. ``"segment = 'enterprise'"``."""
        return self._with(where_=self.where_ + tuple(c for c in conditions if c))

    def as_of(self, when: dt.date | dt.datetime | str | None) -> KpiQuery:
        """Evaluate on the data as known at the end of ``when`` (rebuilt from the ledger)."""
        if isinstance(when, str):
            when = dt.date.fromisoformat(when)
        return self._with(as_of_=when)

    def compare(self, to: str | None = "previous_period") -> KpiQuery:
        """Add ``previous_value``, ``change`` and ``change_pct`` against the previous period or year."""
        if to is not None and to not in COMPARISONS:
            from revalign.errors import UnknownNameError

            raise UnknownNameError("comparison", to, COMPARISONS)
        return self._with(compare_=to)

    def definitions(self, which: str) -> KpiQuery:
        """``historical`` (default): each period under the definition then in force; ``current``: today's."""
        if which not in ("historical", "current"):
            raise ValueError(f"definitions must be 'historical' or 'current'. Got {which!r} instead.")
        return self._with(definitions_=which)

    def no_cache(self) -> KpiQuery:
        return self._with(use_cache=False)

    # -- compile ------------------------------------------------------------------------------------------------
    def request(self, start: dt.date | None = None) -> Request:
        return Request(
            grain=self.grain_,
            by=self.by_,
            where=self.where_,
            start=start if start is not None else self.start_,
            end=self.end_,
            fiscal_year_start_month=self.fiscal_year_start_month,
            definitions=self.definitions_,
        )

    def _compiler(self, bound: bool = True, share_aggregates: bool = False) -> Compiler:
        provider = _unbound if not bound else _bound_tables(self.project)
        if self.as_of_ is not None:
            provider = as_of_tables(provider, self.as_of_)
        return Compiler(self.catalog, provider, share_aggregates=share_aggregates)

    def to_ibis(self, name: str | None = None, *, bound: bool = True) -> ir.Table:
        """The Ibis expression for one KPI (default: the first): period_start, <dims…>, value."""
        return self._expr(self._compiler(bound), name or self.names[0])

    def _expr(self, compiler: Compiler, name: str) -> ir.Table:
        """KPI ``name`` compiled by ``compiler`` (one compiler serves a whole batch and shares its inputs)."""
        start = self.start_
        if self.compare_ and start is not None:
            start = calendar.add_periods(
                calendar.period_start(start, self.grain_, self.fiscal_year_start_month), self.grain_, -self._lag()
            )
        try:
            return compiler.compile(name, self.request(start))
        except UnknownNameError as exc:
            if any(d == exc.name for d in self.by_):
                raise UnknownNameError(
                    f"dimension for KPI {name!r}", exc.name, self.catalog.dimensions_of(name)
                ) from None
            raise

    def explain(self, engine: str | None = None) -> str:
        """The SQL the engine (``duckdb``, ``postgres``, ``spark`` …; default the project's) would run."""
        dialect = engine or self.project.engine.dialect
        dialect = DIALECTS.get(dialect, dialect)
        # loading a backend registers its compile options (pyspark's compiler needs them)
        with contextlib.suppress(AttributeError, ImportError):
            getattr(ibis, dialect)
        parts = []
        for name in self.names:
            sql = ibis.to_sql(self.to_ibis(name, bound=False), dialect=dialect)
            parts.append(f"-- {name} ({self.grain_}{', by ' + ', '.join(self.by_) if self.by_ else ''})\n{sql}")
        return "\n\n".join(parts)

    # -- run ----------------------------------------------------------------------------------------------------
    def _lag(self) -> int:
        if self.compare_ == "previous_year":
            return {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}[self.grain_]
        return 1

    def _cache_key(self, name: str, version: str) -> tuple[Any, ...]:
        deps = [self.catalog.get(n) for n in [name, *self.catalog.dependencies(name)]]
        models = sorted({k.semantic_model for k in deps if k.semantic_model})
        defs = definition_hash(*deps, *[self.catalog.semantic_models.get(m) for m in models])
        return (
            _engine_id(self.project.engine),
            version,
            name,
            defs,
            self.grain_,
            self.by_,
            self.where_,
            self.start_,
            self.end_,
            str(self.as_of_),
            self.compare_,
            self.definitions_,
            self.fiscal_year_start_month,
        )

    def _finish(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """One KPI's rows as returned: normalised types and order, comparison columns, the ``kpi`` column."""
        frame = _normalise(frame, self.by_)
        if self.compare_:
            frame = _compare(frame, self.by_, self.grain_, self._lag())
            if self.start_ is not None:
                frame = frame[frame["period_start"] >= self.start_]
        frame.insert(0, "kpi", name)
        return frame.reset_index(drop=True)

    def _run(self, names: Sequence[str]) -> dict[str, pd.DataFrame]:
        """Compute ``names`` with one compiler (shared inputs, one table listing) and one query per batch."""
        compiler = self._compiler(share_aggregates=True)
        exprs = {name: self._expr(compiler, name) for name in names}
        out: dict[str, pd.DataFrame] = {}
        for group in batch.chunks(list(exprs)):
            frame = self.project.engine.execute(compiler.bind(batch.stacked({n: exprs[n] for n in group})))
            for name, rows in batch.split(frame, group).items():
                out[name] = self._finish(name, rows)
        return out

    def to_pandas(self) -> pd.DataFrame:
        """Run the query: one long frame ``kpi, period_start, <dims…>, value`` sorted by KPI, period, dims.

        KPIs already in the result cache (same data version, definition and request) are not recomputed; the
        others run together in one engine query (see :mod:`revalign.kpis.batch`) and are cached one by one.
        """
        names = self.names
        if self.skip_unreachable and self.by_:
            names = tuple(n for n in names if self.catalog.can_slice(n, [d for d in self.by_ if "__" not in d]))
        results: dict[str, pd.DataFrame] = {}
        keys: dict[str, tuple[Any, ...]] = {}
        if self.use_cache:
            version = data_version(self.project.engine)
            for name in dict.fromkeys(names):
                keys[name] = self._cache_key(name, version)
                hit = RESULTS.get(keys[name])
                if hit is not None:
                    results[name] = hit
        missing = [n for n in dict.fromkeys(names) if n not in results]
        if missing:
            for name, frame in self._run(missing).items():
                if self.use_cache:
                    RESULTS.put(keys[name], frame)
                results[name] = frame
        columns = ["kpi", "period_start", *self.by_, "value"]
        if self.compare_:
            columns += ["previous_value", "change", "change_pct"]
        frames = [results[n] for n in names]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        return out[columns].reset_index(drop=True)

    def to_records(self) -> list[dict[str, Any]]:
        return self.to_pandas().to_dict(orient="records")


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


def query(project: Project, names: str | Iterable[str], catalog: Catalog | None = None) -> KpiQuery:
    """A :class:`KpiQuery` for one or several KPIs of ``project`` (its catalog by default)."""
    names = (names,) if isinstance(names, str) else tuple(names)
    return KpiQuery(project, names, catalog if catalog is not None else project_catalog(project))


def kpi_rows(project: Project, name: str, catalog: Catalog | None = None) -> ir.Table:
    """The rows KPI ``name`` aggregates (lazy), with ``__kpi_time``: what a drill-down lists.

    See :meth:`revalign.kpis.compile.Compiler.rows`.
    """
    q = query(project, name, catalog)
    return q._compiler().rows(q.catalog.get(name))


def project_catalog(project: Project) -> Catalog:
    """The project's catalog: the default one plus the files and folders in ``settings.catalog``."""
    from revalign.definitions.kpis.catalog import catalog_for

    extra = [project.folder / p for p in getattr(project.settings, "catalog", [])]
    return catalog_for(extra)


def evaluate(
    project: Project,
    kpis: str | Iterable[str],
    grain: str = "month",
    by: Sequence[str] = (),
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    where: str | Sequence[str] | None = None,
    as_of: dt.date | dt.datetime | str | None = None,
    *,
    catalog: Catalog | None = None,
    compare: str | None = None,
    definitions: str = "historical",
    skip_unreachable: bool = False,
) -> pd.DataFrame:
    """Evaluate KPIs: a long frame ``kpi, period_start, <by…>, value`` (see :class:`KpiQuery`).

    A KPI whose semantic models cannot reach a ``by`` dimension raises :class:`UnknownNameError` listing the
    dimensions it can be sliced by; ``skip_unreachable=True`` leaves such KPIs out instead.
    """
    q = query(project, kpis, catalog).grain(grain).by(*by).period(start, end).as_of(as_of)
    q = dataclasses.replace(q, skip_unreachable=skip_unreachable)
    if where:
        q = q.where(*([where] if isinstance(where, str) else where))
    if compare:
        q = q.compare(compare)
    return q.definitions(definitions).to_pandas()
