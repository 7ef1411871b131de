"""② Typed access to the canonical tables on one engine: what every analytic and KPI query reads through.

Analytics and KPI queries take a :class:`Tables`, never the ``Project`` (which sits above them) and never
"a project or an engine" sniffed at run time. A canonical table that was never loaded is an empty table
with the canonical schema, so a funnel over a project without opportunities shows zeros instead of failing.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.engine import Engine
from revalign.model.tables import TABLES, canonical_table


def empty_table(name: str) -> ir.Table:
    """Canonical table ``name`` with no rows (its schema only)."""
    return ibis.memtable(canonical_table(name).schema.to_pyarrow().empty_table())


def unbound_table(name: str) -> ir.Table:
    """Canonical table ``name`` as an unbound Ibis table: compiles to SQL, never touches data (``explain``)."""
    return ibis.table(TABLES[name].schema, name=name)


_VERSIONS: weakref.WeakKeyDictionary[Engine, tuple[Hashable, str]] = weakref.WeakKeyDictionary()
"""Engine → (change token, data version) of the last :meth:`Tables.data_version` call."""
_SCHEMAS: weakref.WeakKeyDictionary[Engine, tuple[Hashable, str]] = weakref.WeakKeyDictionary()
"""Engine → (change token, schema version) of the last :meth:`Tables.schema_version` call."""


class Tables:
    """The canonical tables of one engine: table-or-empty, ``execute`` and the data version.

    Cheap to create; it holds only the engine. Use :meth:`provider` when one request reads many tables,
    so the database is listed once (listing is slow on some backends).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __repr__(self) -> str:
        return f"<Tables on {self.engine!r}>"

    def has(self, name: str) -> bool:
        """Whether table ``name`` was loaded into the engine."""
        return self.engine.has_table(name)

    def table(self, name: str) -> ir.Table:
        """Canonical table ``name`` as a lazy Ibis expression; an empty typed table if nothing was loaded."""
        canonical_table(name)  # unknown names fail here, with suggestions
        if self.engine.has_table(name):
            return self.engine.table(name)
        return empty_table(name)

    def provider(self) -> Callable[[str], ir.Table]:
        """``table`` with the database listed once: for a compiler that asks for many tables in one request."""
        present = set(self.engine.con.list_tables())

        def provide(name: str) -> ir.Table:
            if name in present:
                return self.engine.con.table(name)
            return empty_table(name)

        return provide

    def execute(self, expr: ir.Expr) -> Any:
        """Run ``expr`` on the engine: a DataFrame for a table, a scalar for a scalar expression."""
        return self.engine.execute(expr)

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        """Run a table expression and return a DataFrame (typed, for callers that need a frame)."""
        frame = self.engine.execute(expr)
        assert isinstance(frame, pd.DataFrame)  # a table expression always executes to a frame
        return frame

    def data_version(self) -> str:
        """A fingerprint of the canonical tables present (row count and latest time value of each, one query).

        Any load, append or correction changes it, so results cached under it are never stale. Where the engine
        can tell cheaply that nothing was written since the last call (:meth:`Engine.change_token`: a DuckDB
        file's size and time), the last fingerprint is reused instead of scanning every table again.
        """
        token = self.engine.change_token()  # read first: a write during the scan then moves it for the next call
        known = _VERSIONS.get(self.engine)
        if token is not None and known is not None and known[0] == token:
            return known[1]
        version = self._fingerprint()
        if token is not None:
            _VERSIONS[self.engine] = (token, version)
        return version

    def schema_version(self) -> str | None:
        """A fingerprint of the tables' shape: which canonical tables are present and each one's schema.

        What SQL compiled over these tables depends on besides the definitions (an absent table is an empty
        in-memory one; a column added or retyped changes the plan), and nothing the rows hold, so compiled SQL
        keyed by it stays valid across loads (:mod:`revalign.kpis.sql_cache`). ``None``: tables whose
        expressions carry data of their own, whose SQL must not be reused. Reused like :meth:`data_version`
        while the engine's change token stands still.
        """
        token = self.engine.change_token()
        known = _SCHEMAS.get(self.engine)
        if token is not None and known is not None and known[0] == token:
            return known[1]
        present = set(self.engine.con.list_tables())
        shapes = [
            f"{name}({', '.join(f'{c} {t}' for c, t in self.engine.con.get_schema(name).items())})"
            for name in sorted(TABLES)
            if name in present
        ]
        version = hashlib.sha256("|".join(shapes).encode()).hexdigest()[:16]
        if token is not None:
            _SCHEMAS[self.engine] = (token, version)
        return version

    def _fingerprint(self) -> str:
        parts: list[ir.Table] = []
        present = set(self.engine.con.list_tables())
        for name in sorted(TABLES):
            if name not in present:
                continue
            t = self.engine.con.table(name)
            spec = TABLES[name]
            latest = t[spec.time_column].max().cast("string") if spec.time_column in t.columns else ibis.literal("")
            parts.append(t.aggregate(name=ibis.literal(name), n=t.count(), latest=latest.fill_null("")))
        if not parts:
            return "empty"
        frame = self.engine.execute(ibis.union(*parts)).sort_values("name")
        payload = "|".join(f"{r.name}:{r.n}:{r.latest}" for r in frame.itertuples())
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
