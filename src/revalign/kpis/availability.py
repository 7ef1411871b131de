"""Undefined is not zero: which KPIs have no value because a table they read was never loaded.

An empty canonical table stands in for one that was never loaded, so that a funnel over a project without
opportunities shows zeros instead of failing. For a KPI that reasoning is wrong: with no spend loaded, CAC is
unknown, not 0 (the additive input "spend" would be filled with zero and the ratio would read 0). So a query
leaves such KPIs out and says why, and pages, the API and the CLI show them as missing with that reason.

The same holds for a column: an opportunities export without a ``Type`` column loads, but every KPI that filters
on ``deal_type`` then counts nothing. :func:`empty_columns` finds such columns for ``revalign check``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import Kpi, SemanticModel
from revalign.model.access import Tables
from revalign.model.tables import TABLES


def missing_tables(catalog: Catalog, names: Iterable[str], loaded: Callable[[str], bool]) -> dict[str, list[str]]:
    """KPI → the tables it reads that are not loaded (only KPIs that miss at least one)."""
    out: dict[str, list[str]] = {}
    known: dict[str, bool] = {}
    for name in dict.fromkeys(names):
        tables = catalog.tables_of(name)
        for t in tables:
            if t not in known:
                known[t] = loaded(t)
        gone = [t for t in tables if not known[t]]
        if gone:
            out[name] = gone
    return out


def reason(tables: Iterable[str]) -> str:
    """Why a KPI has no value, for a person: ``no spend data loaded (table spend)``."""
    names = sorted(tables)
    listed = ", ".join(names)
    noun = "table" if len(names) == 1 else "tables"
    return f"no {listed} data loaded ({noun} {listed}); load it with `revalign ingest`"


# -- columns a KPI reads that hold no value at all ------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class EmptyColumn:
    """A column KPIs read that is empty (NULL) in every row of a loaded table: a mapping left it unmapped."""

    table: str
    column: str
    rows: int
    kpis: tuple[str, ...]

    @property
    def message(self) -> str:
        listed = ", ".join(self.kpis[:8]) + (f" and {len(self.kpis) - 8} more" if len(self.kpis) > 8 else "")
        return (
            f"{self.table}.{self.column} is empty in all {self.rows:,} rows, so {listed} cannot count anything: "
            f"map a source column to {self.column!r} (see docs/mappings.md) and ingest again"
        )


def _own_columns(sm: SemanticModel, text: str | None, columns: Collection[str], depth: int = 0) -> set[str]:
    """Columns of the model's table that ``text`` (a filter or an expression) reads, through its dimensions."""
    found: set[str] = set()
    for word in _WORD.findall(text or ""):
        name = word.split("__", 1)[1] if "__" in word and sm.entity(word.split("__", 1)[0]) else word
        dim = sm.dimension(name)
        if dim is not None and dim.expr and depth < 3:
            found |= _own_columns(sm, dim.expr, columns, depth + 1)
        elif name in columns:
            found.add(name)
    return found


def kpi_columns(catalog: Catalog, kpi: Kpi) -> tuple[str, set[str]] | None:
    """(table, columns) that ``kpi`` filters, aggregates and dates its rows by; None for KPIs without rows of
    their own (ratios and derived KPIs read through their inputs) or over a view."""
    if not kpi.semantic_model:
        return None
    sm = catalog.semantic_model(kpi.semantic_model)
    if sm.table not in TABLES:
        return None
    columns = TABLES[sm.table].column_names
    measure = next((m for m in sm.measures if m.name == kpi.measure), None)
    texts = [kpi.filter, kpi.expr, sm.where, measure.expr if measure else None]
    texts.append(kpi.agg_time_dimension or (measure.agg_time_dimension if measure else None) or sm.agg_time_dimension)
    found: set[str] = set()
    for text in texts:
        found |= _own_columns(sm, text, columns)
    return sm.table, found


def empty_columns(catalog: Catalog, tables: Tables) -> list[EmptyColumn]:
    """Columns KPIs read that are NULL in every row of a loaded, non-empty table (one query per table)."""
    readers: dict[str, dict[str, list[str]]] = {}
    for kpi in catalog:
        found = kpi_columns(catalog, kpi)
        if found is None:
            continue
        table, columns = found
        for column in columns:
            readers.setdefault(table, {}).setdefault(column, []).append(kpi.name)
    out: list[EmptyColumn] = []
    for table, by_column in sorted(readers.items()):
        if not tables.has(table):
            continue
        t = tables.table(table)
        names = sorted(c for c in by_column if c in t.columns)
        counts = tables.to_pandas(t.aggregate(__rows=t.count(), **{f"__n_{c}": t[c].count() for c in names}))
        rows = int(counts["__rows"].iloc[0])
        if rows == 0:
            continue
        for c in names:
            if int(counts[f"__n_{c}"].iloc[0]) == 0:
                out.append(EmptyColumn(table, c, rows, tuple(sorted(by_column[c]))))
    return out
