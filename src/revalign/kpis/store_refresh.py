"""Build the KPI store (:mod:`revalign.kpis.store`) for the current data version, inside the project's engine.

For each stored grain and slice (the company, then each standard dimension) the KPIs that can be sliced that way
are compiled together (:meth:`revalign.kpis.query.KpiQuery.batches`: the batch evaluation live requests use, so
the stored values are the live ones) and inserted into a staging table straight from the engine (no rows pass
through Python). Only when every slice is written does one transaction replace the store with the staging table,
so a reader sees the previous version complete or the new one complete, never a half-built one; the old
versions go with the replaced table.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.definitions.kpis.catalog import Catalog
from revalign.kpis.query import KpiQuery
from revalign.kpis.store import COMPANY, DIMENSIONS, GRAINS, SCHEMA, STAGING_TABLE, STORE_TABLE, stored_hash, today
from revalign.model.access import Tables


@dataclass
class StoreReport:
    """What one store refresh wrote: the data version, the slices, the rows, what was left out and the time."""

    data_version: str
    slices: int = 0
    rows: int = 0
    seconds: float = 0.0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    """slice (``grain/dimension``) → KPIs that could not be stored there (not sliceable, or no table loaded)."""

    def summary(self) -> str:
        rows = f"{self.rows:,} rows in {self.slices} slices"
        return f"KPI store: {rows} for data version {self.data_version} ({self.seconds:.1f} s)"


def _storable(q: KpiQuery, names: Sequence[str], by: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The KPIs of ``names`` the query can compute (every table loaded, the dimension reachable), and the others
    (the checks a live request makes before compiling: :meth:`KpiQuery.unavailable`, :meth:`Catalog.can_slice`)."""
    gone = q.unavailable()
    ok: list[str] = []
    left: list[str] = []
    for name in names:
        (left if name in gone or not q.catalog.can_slice(name, list(by)) else ok).append(name)
    return ok, left


def _rows(expr: ir.Table, version: str, hashes: dict[str, str], grain: str, by: tuple[str, ...]) -> ir.Table:
    """A stacked KPI expression ``kpi, period_start, <by…>, value`` as store rows (see :data:`STORE_TABLE`)."""
    hash_of = ibis.cases(*[(expr.kpi == k, h) for k, h in hashes.items()], else_=ibis.null("string"))
    member = expr[by[0]].cast("string") if by else ibis.null("string")
    return expr.select(
        data_version=ibis.literal(version, type="string"),
        definition_hash=hash_of,
        kpi=expr.kpi,
        grain=ibis.literal(grain, type="string"),
        dimension=ibis.literal(by[0] if by else COMPANY, type="string"),
        member=member,
        period_start=expr.period_start.cast("date"),
        value=expr.value.cast("float64"),
        built_on=ibis.literal(today(), type="date"),
    )


def _markers(version: str, hashes: dict[str, str], grain: str, dimension: str) -> pd.DataFrame:
    """One row per stored KPI with no period: says the (KPI, grain, dimension) is covered even with no values."""
    return pd.DataFrame(
        {
            "data_version": version,
            "definition_hash": list(hashes.values()),
            "kpi": list(hashes),
            "grain": grain,
            "dimension": dimension,
            "member": None,
            "period_start": pd.Series([None] * len(hashes), dtype=object),
            "value": float("nan"),
            "built_on": today(),
        }
    )


def refresh_store(
    tables: Tables,
    catalog: Catalog,
    *,
    fiscal_year_start_month: int = 1,
    grains: Sequence[str] = GRAINS,
    dimensions: Sequence[str] = DIMENSIONS,
    kpis: Sequence[str] | None = None,
) -> StoreReport:
    """Materialise every KPI (default: the whole catalog) × ``grains`` × (company + ``dimensions``) for the
    tables' current data version into :data:`STORE_TABLE`, replacing what it held (see the module docstring)."""
    began = time.perf_counter()
    engine = tables.engine
    version = tables.data_version()
    report = StoreReport(version)
    names = list(kpis) if kpis is not None else list(catalog.kpis)
    hashes = {n: stored_hash(catalog, n, fiscal_year_start_month) for n in names}
    engine.drop(STAGING_TABLE)
    engine.write(STAGING_TABLE, SCHEMA.to_pyarrow().empty_table(), schema=SCHEMA)
    for grain in grains:
        for by in [(), *[(d,) for d in dimensions]]:
            q = KpiQuery(catalog, tables, tuple(names), fiscal_year_start_month).grain(grain).by(*by)
            ok, left = _storable(q, names, by)
            report.skipped[f"{grain}/{by[0] if by else 'company'}"] = left
            if not ok:
                continue
            for group, expr in q.batches(ok):
                rows = _rows(expr, version, {n: hashes[n] for n in group}, grain, by)
                engine.write(STAGING_TABLE, engine.prepare(rows), mode="append")
            marker = _markers(version, {n: hashes[n] for n in ok}, grain, by[0] if by else COMPANY)
            engine.write(STAGING_TABLE, marker, schema=SCHEMA, mode="append")
            report.slices += 1
    with engine.transaction():
        engine.write(STORE_TABLE, engine.table(STAGING_TABLE))
        engine.drop(STAGING_TABLE)
    store = engine.table(STORE_TABLE)
    report.rows = int(engine.execute(store.period_start.count()))
    report.seconds = time.perf_counter() - began
    return report


def drop_store(tables: Tables) -> None:
    """Remove the store (requests then evaluate live): for a project that no longer wants one."""
    tables.engine.drop(STORE_TABLE)
    tables.engine.drop(STAGING_TABLE)


__all__ = ["StoreReport", "drop_store", "refresh_store"]
