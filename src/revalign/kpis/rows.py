"""The rows a KPI aggregates, as a lazy table a drill-down can list: the records behind a number.

A drill-down must list exactly what the number counted, so the rows are built from the same pieces the
compiler aggregates (:class:`revalign.kpis.frames.Frames`: the semantic model's table after its ``where``, the
KPI's filter and any slice, entity joins where a name lives elsewhere). Each row keeps the model table's own
columns and gains the columns that say how the KPI used it:

- :data:`ROW_TIME` — the time the KPI puts the row in a period by (``closed_at`` for won revenue);
- :data:`ROW_VALUE` — what the row adds when the KPI aggregates an expression (a deal's amount, a lead's hours
  to first touch);
- :data:`VALID_FROM` / :data:`VALID_TO` — for snapshot KPIs, the days a row is valid (the KPI counts it at a
  point ``p`` when ``valid_from < p <= valid_to``, see :mod:`revalign.kpis.snapshot`);
- :data:`CONVERTED` — for a conversion KPI's base rows, 1 when the entity converted within the window (the
  numerator) and 0 otherwise (see :mod:`revalign.kpis.conversion`).

A KPI whose definition changed (``revisions``) is read under the definition in force on ``on`` (a period's
start, as the compiler picks it per period) or, with ``on=None``, each row under the definition in force on its
own day (as a cumulative total reads its input day by day).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import Kpi
from revalign.errors import CatalogError
from revalign.kpis import filters
from revalign.kpis.conversion import conversion_events, converted_flags
from revalign.kpis.frames import Frames, measure_of
from revalign.kpis.request import Request, TableProvider, conditions

ROW_TIME = "__kpi_time"
ROW_VALUE = "__kpi_value"
VALID_FROM = "__valid_from"
VALID_TO = "__valid_to"
CONVERTED = "__converted"
ROW_KINDS = ("simple", "percentile", "snapshot")
"""KPI types with rows of their own (a semantic model they aggregate)."""


class RowBuilder:
    """Builds the rows of KPIs over one table provider (tables and views are read once per builder)."""

    def __init__(self, catalog: Catalog, tables: TableProvider) -> None:
        self.catalog = catalog
        self.frames = Frames(catalog, tables)

    def rows(self, name: str, *, on: dt.date | None = None, where: Sequence[str] = ()) -> ir.Table:
        """The rows KPI ``name`` aggregates, with :data:`ROW_TIME` (or the validity columns) and :data:`ROW_VALUE`.

        ``where`` are extra conditions in the filter language (a slice such as ``segment = 'smb'``), resolved
        like the KPI's own filter, so a dimension reached through a join filters the rows it slices.
        """
        kpi = self.catalog.get(name)
        if kpi.type not in ROW_KINDS or not kpi.semantic_model:
            raise CatalogError(
                f"KPI {kpi.name!r} is a {kpi.type} KPI with no rows of its own; drill into its inputs instead."
            )
        bounds = kpi.revision_boundaries()
        if on is not None or not bounds or kpi.type == "snapshot":
            return self._version(kpi.definition_at(on), where)
        parts = []
        for lo, hi in itertools.pairwise([None, *bounds, None]):
            t = self._version(kpi.definition_at(lo or dt.date.min), where)
            day = filters.as_date(t[ROW_TIME])
            if lo is not None:
                t = t.filter(day >= lo)
            if hi is not None:
                t = t.filter(day < hi)
            parts.append(t)
        return ibis.union(*parts)

    def _version(self, kpi: Kpi, where: Sequence[str], more: Sequence[str] = ()) -> ir.Table:
        """One definition's rows: own columns, the KPI's time (or validity), its per-row value, ``more`` names."""
        sm = self.frames.model(kpi.semantic_model or "")
        own = list(self.frames.table(sm.table).columns)
        req = Request(where=tuple(where))
        expr_text = measure_of(kpi, sm)[1]
        refs = [*more]
        if kpi.type == "snapshot":
            if not sm.validity or "valid_from" not in sm.validity:
                raise CatalogError(f"KPI {kpi.name!r}: semantic model {sm.name!r} has no validity: {{valid_from: …}}")
            vf, vt = sm.validity["valid_from"], sm.validity.get("valid_to")
            fr = self.frames.filtered(sm, kpi, conditions(kpi, req, None), [vf, *([vt] if vt else []), *refs])
            t = fr.table
            cols: dict[str, ir.Value] = {
                VALID_FROM: filters.as_date(t[fr.columns[vf]]),
                VALID_TO: filters.as_date(t[fr.columns[vt]]) if vt else ibis.null("date"),
            }
            t = t.filter(t[fr.columns[vf]].notnull())
        else:
            fr, time_name = self.frames.rows(kpi, req, None, refs)
            t = fr.table
            cols = {ROW_TIME: t[fr.columns[time_name]]}
        if expr_text:
            cols[ROW_VALUE] = filters.to_ibis(expr_text, fr.resolver(t))
        cols.update({f"__m_{n}": t[fr.columns[n]] for n in more})
        return t.select(*own, **cols)

    def converted(self, name: str, *, on: dt.date | None = None, where: Sequence[str] = ()) -> ir.Table:
        """A conversion KPI's base rows (its denominator) with :data:`CONVERTED` (1: counted in the numerator).

        A base event converts when a conversion event of the same entity (and constant properties) happens at
        or after it and within the window, exactly as :func:`revalign.kpis.conversion.conversion_table` decides.
        """
        kpi = self.catalog.get(name)
        if kpi.type != "conversion" or kpi.base_metric is None or kpi.conversion_metric is None:
            raise CatalogError(f"KPI {kpi.name!r} is not a conversion KPI with base_metric and conversion_metric")
        entity = kpi.entity or ""
        props = [(p.get("base_property", ""), p.get("conversion_property", "")) for p in kpi.constant_properties]
        base_kpi = self.catalog.get(kpi.base_metric.name).definition_at(on)
        conds = [c for c in (kpi.base_metric.filter, kpi.filter) if c]
        b = self._version(base_kpi, [*conds, *where], [entity, *[bp for bp, _ in props]])
        conv_kpi = self.catalog.get(kpi.conversion_metric.name)
        conv_fr, conv_time = self.frames.rows(
            conv_kpi, Request(), kpi.conversion_metric.filter, [entity, *[c for _, c in props]]
        )
        conv = conversion_events(conv_fr, conv_time, entity, props)
        b = b.mutate(
            __e=b[f"__m_{entity}"].cast("string"),
            __t=b[ROW_TIME].cast("timestamp"),
            **{f"__p{i}": b[f"__m_{bp}"].cast("string") for i, (bp, _) in enumerate(props)},
        )
        key_cols = ["__e", "__t", *[f"__p{i}" for i in range(len(props))]]
        flags = converted_flags(b.select(*key_cols).distinct(), conv, kpi, len(props))  # its column: CONVERTED
        # the flags' keys renamed, so the join cannot mistake them for the base rows' own (both come from ``b``)
        flags = flags.rename({f"__f{c}": c for c in key_cols})
        out = b.left_join(flags, [b[c] == flags[f"__f{c}"] for c in key_cols])
        shown = [c for c in b.columns if not c.startswith("__m_") and c not in key_cols]
        return out.select(*shown, **{CONVERTED: out[CONVERTED].fill_null(0)})
