"""User-written filters and expressions rebuilt as Ibis expressions, node by node, through the whitelist.

The text is parsed and checked on the definitions side (:mod:`revalign.definitions.kpis.expressions`); here each
whitelisted node becomes the Ibis operation that means the same on every engine (a division by zero gives
NULL everywhere), so nothing user-written reaches a database as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
from sqlglot import exp

from revalign.definitions.kpis.expressions import ExpressionError, parse

Resolver = Callable[[str], ir.Value]


def _literal(node: exp.Literal) -> Any:
    if node.is_string:
        return node.this
    text = node.this
    return float(text) if any(c in text for c in ".eE") else int(text)


def _safe_div(a: ir.Value, b: ir.Value) -> ir.Value:
    """a / b with NULL for b = 0: the same on every engine (Postgres raises, Spark ANSI raises, DuckDB NULLs)."""
    if isinstance(b, ir.NumericValue):
        b = b.nullif(0)
    return a.cast("float64") / b


_BINARY: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Add: lambda a, b: a + b,
    exp.Sub: lambda a, b: a - b,
    exp.Mul: lambda a, b: a * b,
    exp.Div: _safe_div,
    exp.Mod: lambda a, b: a % b,
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
    exp.And: lambda a, b: a & b,
    exp.Or: lambda a, b: a | b,
    exp.Like: lambda a, b: a.like(b),
}
"""Binary operators, matched on the exact node type (Python values are wrapped as Ibis literals first)."""

Translate = Callable[[exp.Expression], Any]


def _not(go: Translate, node: exp.Expression) -> Any:
    if isinstance(node.this, exp.Is):
        return go(node.this.this).notnull()
    return ~go(node.this)


def _case(go: Translate, node: exp.Expression) -> Any:
    return ibis.cases(
        *[(go(i.this), go(i.args["true"])) for i in node.args["ifs"]],
        else_=go(node.args["default"]) if node.args.get("default") else None,
    )


def _function(go: Translate, node: exp.Expression) -> Any:
    """revalign's own functions (``days_between``, ``hours_between``); any other name cannot be translated."""
    name = str(node.this).lower()
    args = [go(e) for e in node.expressions]
    if name not in ("days_between", "hours_between"):
        raise ExpressionError(f"cannot translate {node.sql()!r}")
    if len(args) != 2:
        raise ExpressionError(f"{name}(start, end) takes two arguments")
    start, end = args
    if name == "days_between":  # whole calendar days, like a date difference in a spreadsheet
        return (_epoch(as_date(end)) - _epoch(as_date(start))) / 86400
    return (_epoch(end) - _epoch(start)) / 3600


_RULES: tuple[tuple[type[exp.Expression], Callable[[Translate, Any], Any]], ...] = (
    (exp.Paren, lambda go, n: go(n.this)),
    (exp.Literal, lambda go, n: ibis.literal(_literal(n))),
    (exp.Boolean, lambda go, n: ibis.literal(bool(n.this))),
    (exp.Null, lambda go, n: ibis.null()),
    (exp.Neg, lambda go, n: -go(n.this)),
    (exp.Not, _not),
    (exp.Is, lambda go, n: go(n.this).isnull()),
    (exp.In, lambda go, n: go(n.this).isin([go(e) for e in n.expressions])),
    (exp.Between, lambda go, n: go(n.this).between(go(n.args["low"]), go(n.args["high"]))),
    (exp.Case, _case),
    (exp.If, lambda go, n: ibis.ifelse(go(n.this), go(n.args["true"]), go(n.args.get("false") or exp.Null()))),
    (exp.Coalesce, lambda go, n: ibis.coalesce(go(n.this), *[go(e) for e in n.expressions])),
    (exp.Abs, lambda go, n: go(n.this).abs()),
    (exp.Greatest, lambda go, n: ibis.greatest(go(n.this), *[go(e) for e in n.expressions])),
    (exp.Least, lambda go, n: ibis.least(go(n.this), *[go(e) for e in n.expressions])),
    (exp.Nullif, lambda go, n: go(n.this).nullif(go(n.expression))),
    (exp.Lower, lambda go, n: go(n.this).lower()),
    (exp.Upper, lambda go, n: go(n.this).upper()),
    (exp.Anonymous, _function),
)
"""Every other whitelisted node, checked in order (``isinstance``): node → Ibis expression."""


def to_ibis(tree: exp.Expression | str, resolve: Resolver) -> ir.Value:
    """Build the Ibis expression for a parsed (or raw) expression; ``resolve`` maps names to Ibis values."""
    if isinstance(tree, str):
        tree = parse(tree)

    def go(node: exp.Expression) -> Any:
        if isinstance(node, exp.Column):
            return resolve(node.name)
        binary = _BINARY.get(type(node))
        if binary is not None:
            return binary(_wrap(go(node.this)), _wrap(go(node.expression)))
        for cls, rule in _RULES:
            if isinstance(node, cls):
                return rule(go, node)
        raise ExpressionError(f"cannot translate {node.sql()!r}")

    return go(tree)


def _wrap(value: Any) -> Any:
    return ibis.literal(value) if isinstance(value, bool | int | float | str) else value


def as_date(v: ir.Value) -> ir.Value:
    """A timestamp's date (a date stays as it is)."""
    return v.date() if v.type().is_timestamp() else v


def _epoch(v: ir.Value) -> ir.Value:
    """Seconds since 1970 for a date or timestamp (dates at midnight), as a float."""
    if v.type().is_date():
        v = v.cast("timestamp")
    return v.epoch_seconds().cast("float64")
