"""SQL for MetricFlow: revalign expressions and filters rendered for one dialect, and the dbt models revalign
derives (the time spine, filtered tables, views, daily snapshot copies).

MetricFlow pastes ``expr`` and filters into its queries, so they are rendered with sqlglot for ``dialect``:
revalign's ``days_between``/``hours_between`` become that dialect's date arithmetic and every division is made
safe (float, NULL on a zero divisor) as revalign divides on every engine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable

# Ibis adds its rewrites to sqlglot's dialects (Postgres: DATE_FROM_PARTS → MAKE_DATE) when this module is
# imported, and sqlglot fixes a dialect's generator the first time it is used: rendering SQL here before Ibis
# loaded it would leave every later Ibis query on that dialect without the rewrite (invalid SQL on Postgres).
import ibis
import ibis.backends.sql.dialects
import sqlglot
from sqlglot import exp

from revalign.definitions.kpis import expressions
from revalign.definitions.kpis.spec import Kpi, SemanticModel
from revalign.kpis.metricflow.names import (
    _PLACEHOLDER,
    _PLACEHOLDER_RE,
    SNAPSHOT_DAY_END,
    SNAPSHOT_DAY_START,
    TIME_SPINE,
    MetricFlowExportError,
    Names,
    _Ref,
)
from revalign.model.access import unbound_table
from revalign.model.tables import TABLES
from revalign.model.views import VIEWS


def translate(tree: exp.Expression, column: Callable[[str], exp.Expression]) -> exp.Expression:
    """Rewrite a whitelisted revalign expression for SQL: names via ``column``, revalign's functions."""

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return column(node.name)
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in ("days_between", "hours_between"):
            return _between(str(node.this).lower(), *node.expressions)
        return node

    return _safe_divisions(tree.copy().transform(fix))


def _between(name: str, start: exp.Expression, end: exp.Expression) -> exp.Expression:
    """``days_between`` as whole calendar days, ``hours_between`` as exact hours (already a safe division)."""
    if name == "days_between":
        return exp.DateDiff(
            this=exp.cast(end, exp.DataType.Type.DATE),
            expression=exp.cast(start, exp.DataType.Type.DATE),
            unit=exp.var("DAY"),
        )
    seconds = exp.Sub(
        this=exp.TimeToUnix(this=exp.cast(end, exp.DataType.Type.TIMESTAMP)),
        expression=exp.TimeToUnix(this=exp.cast(start, exp.DataType.Type.TIMESTAMP)),
    )
    hours = exp.Div(this=exp.Paren(this=seconds), expression=exp.Literal.number("3600.0"))
    hours.meta["revalign_safe"] = True
    return hours


def _safe_divisions(out: exp.Expression) -> exp.Expression:
    """revalign divides as floats and a division by zero gives no value, on every engine (innermost first)."""
    for div in reversed(list(out.find_all(exp.Div))):
        if div.meta.get("revalign_safe"):
            continue
        num, den = div.this, div.expression
        if not isinstance(num, exp.Div):
            num = exp.cast(num, exp.DataType.Type.DOUBLE, copy=False)
        if not (isinstance(den, exp.Literal) and den.is_number and float(den.this) != 0):
            den = exp.Nullif(this=den, expression=exp.Literal.number(0))
        safe = exp.Div(this=num, expression=den)
        safe.meta["revalign_safe"] = True
        if div is out:
            out = safe
        else:
            div.replace(safe)
    return out


class Sql(Names):
    """Rendering of revalign expressions, filters and derived dbt models as SQL for the export's dialect."""

    def _column_sql(self, sm: SemanticModel, name: str, seen: tuple[str, ...] = ()) -> exp.Expression:
        """A name inside a measure or dimension ``expr``: a raw column, or a dimension's own expression."""
        d = sm.dimension(name)
        if d is not None and d.expr and d.expr != name and name not in seen:
            return exp.Paren(
                this=translate(expressions.parse(d.expr), lambda n: self._column_sql(sm, n, (*seen, name)))
            )
        e = sm.entity(name)
        if e is not None:
            return exp.column(e.column)
        return exp.column(d.column if d is not None and d.expr == name else name)

    def sql(self, text: str, column: Callable[[str], exp.Expression]) -> str:
        return translate(expressions.parse(text), column).sql(dialect=self.dialect)

    def filter_sql(self, kpi: Kpi, text: str, models: list[SemanticModel]) -> str:
        """A revalign filter as a MetricFlow where filter (Jinja references, SQL for ``self.dialect``)."""
        if re.search(r"\{\{\s*Metric\(", text):
            raise MetricFlowExportError(
                f"KPI {kpi.name!r} ({kpi.ctx}): filter {text!r} uses Metric(), which the export cannot translate; "
                "filter on dimensions instead."
            )
        try:
            tree = expressions.parse(text)
        except expressions.ExpressionError as exc:
            raise MetricFlowExportError(f"KPI {kpi.name!r} ({kpi.ctx}): {exc}") from None
        refs: list[_Ref] = []

        def column(name: str) -> exp.Expression:
            found = next((r for r in (self.resolve(m, name) for m in models) if r is not None), None)
            if found is None:
                where = ", ".join(repr(m.name) for m in models)
                raise MetricFlowExportError(
                    f"KPI {kpi.name!r} ({kpi.ctx}): filter {text!r} uses {name!r}, which is not a dimension or "
                    f"entity reachable from semantic model {where}. MetricFlow filters can only name dimensions, "
                    f"entities and time dimensions: add a dimension for {name!r} to the semantic model, or filter "
                    "on an existing dimension."
                )
            refs.append(found)
            return exp.column(_PLACEHOLDER.format(len(refs) - 1))

        rendered = translate(tree, column).sql(dialect=self.dialect)
        return _PLACEHOLDER_RE.sub(lambda m: refs[int(m.group(1))].jinja(), rendered)

    def _view_sql(self, name: str) -> str:
        """A revalign view (model/views.py) as a dbt model: Ibis compiles it, canonical tables become refs."""
        backend = {"spark": "pyspark"}.get(self.dialect, self.dialect)
        with contextlib.suppress(AttributeError, ImportError):  # loading a backend registers its options
            getattr(ibis, backend)
        expr = VIEWS[name](unbound_table)
        tree = sqlglot.parse_one(ibis.to_sql(expr, dialect=backend), read=self.dialect)

        def ref(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.name in TABLES:
                return exp.Table(this=exp.to_identifier(f"revalign_table_{node.name}"), alias=node.args.get("alias"))
            return node

        sql = tree.transform(ref).sql(dialect=self.dialect, pretty=True)
        sql = re.sub(r"\brevalign_table_(\w+)\b", r"{{ ref('\1') }}", sql)
        header = f"-- Generated by revalign from its view `{name}` (src/revalign/kpis/views.py), for {self.dialect}."
        return f"{header}\n{sql}\n"


def time_spine_sql() -> str:
    """MetricFlow's daily time spine as a dbt model (2000 to 2040)."""
    start, end = dt.date(2000, 1, 1), dt.date(2040, 1, 1)
    return (
        "-- Generated by revalign: MetricFlow's daily time spine.\n"
        "{{ config(materialized='table') }}\n"
        "select cast(date_day as date) as date_day\n"
        "from (\n"
        f"  {{{{ dbt.date_spine('day', \"cast('{start}' as date)\", \"cast('{end}' as date)\") }}}}\n"
        ") as spine\n"
    )


def snapshot_sql(src: str, vf: str, vt: str | None) -> str:
    """A dbt model with one row per day each row of model ``src`` is valid (validity columns ``vf``/``vt``)."""
    cond = f"spine.date_day >= cast(t.{vf} as date)"
    if vt:
        cond += f"\n  and (t.{vt} is null or spine.date_day < cast(t.{vt} as date))"
        last = (
            f"case when count(*) > count(t.{vt})\n"
            f"      then greatest(max(cast(t.{vf} as date)), coalesce(max(cast(t.{vt} as date)), "
            f"max(cast(t.{vf} as date))), current_date)\n"
            f"      else greatest(max(cast(t.{vf} as date)), max(cast(t.{vt} as date))) end"
        )
    else:
        last = f"greatest(max(cast(t.{vf} as date)), current_date)"
    return (
        f"-- Generated by revalign: one row per day each `{src}` row is valid, for snapshot KPIs.\n"
        f"-- {SNAPSHOT_DAY_END}: valid at the end of that day; {SNAPSHOT_DAY_START}: valid at its start "
        "(the end of the day before).\n"
        "-- Days run to the last validity date, or to today while rows are still open, as in revalign.\n"
        f"with bounds as (\n  select {last} as last_day\n  from {{{{ ref('{src}') }}}} as t\n)\n"
        "select\n  t.*,\n"
        f"  spine.date_day as {SNAPSHOT_DAY_END},\n"
        f"  cast({{{{ dbt.dateadd('day', 1, 'spine.date_day') }}}} as date) as {SNAPSHOT_DAY_START}\n"
        f"from {{{{ ref('{src}') }}}} as t\n"
        f"join {{{{ ref('{TIME_SPINE}') }}}} as spine\n  on {cond}\n"
        "cross join bounds\nwhere spine.date_day < bounds.last_day\n"
    )
