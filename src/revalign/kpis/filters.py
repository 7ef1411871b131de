"""User-written filters and expressions, parsed with sqlglot into Ibis, through a whitelist.

MetricFlow pastes ``filter`` and ``expr`` into SQL. revalign parses them instead and rebuilds them as Ibis
expressions, allowing only: column references (plain names or ``{{ Dimension('entity__dimension') }}``),
literals, arithmetic, comparisons, ``and``/``or``/``not``, ``in``, ``between``, ``is [not] null``, ``case when``
and a few named functions. Nothing user-written reaches a database as text, so the same KPI runs on every
engine and a catalog cannot inject SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot
from sqlglot import exp

TEMPLATE = re.compile(
    r"\{\{\s*(Dimension|TimeDimension|Entity|Metric)\(\s*['\"]([A-Za-z_][\w]*)['\"]\s*(?:,\s*['\"]?(\w+)['\"]?\s*)?\)"
    r"(?:\.grain\(\s*['\"](\w+)['\"]\s*\))?\s*\}\}"
)
FUNCTIONS = ("coalesce", "abs", "greatest", "least", "days_between", "hours_between", "nullif", "lower", "upper")
"""Named functions allowed in expressions (everything else is rejected at validation time)."""

Resolver = Callable[[str], ir.Value]


class ExpressionError(ValueError):
    """An expression uses something outside the whitelist, or cannot be parsed."""


def render_templates(text: str) -> str:
    """Replace ``{{ Dimension('lead__source') }}`` (and TimeDimension/Entity/Metric) by the plain name."""
    return TEMPLATE.sub(lambda m: m.group(2), text)


def parse(text: str) -> exp.Expression:
    """Parse ``text`` (templates allowed) into a sqlglot tree, checking it against the whitelist."""
    try:
        tree = sqlglot.parse_one(render_templates(text))
    except sqlglot.errors.ParseError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {str(exc).splitlines()[0]}") from None
    _check(tree, text)
    return tree


_ALLOWED = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Neg,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.And,
    exp.Or,
    exp.Not,
    exp.In,
    exp.Is,
    exp.Between,
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.Abs,
    exp.Greatest,
    exp.Least,
    exp.Nullif,
    exp.Lower,
    exp.Upper,
    exp.Anonymous,
    exp.Like,
)


def _check(tree: exp.Expression, text: str) -> None:
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(
                f"{type(node).__name__} is not allowed in {text!r}. Allowed: column names, literals, + - * / %, "
                f"comparisons, and/or/not, in, between, is null, case when, and the functions {', '.join(FUNCTIONS)}."
            )
        if isinstance(node, exp.Anonymous) and str(node.this).lower() not in FUNCTIONS:
            raise ExpressionError(
                f"function {node.this!r} is not allowed in {text!r}. Allowed: {', '.join(FUNCTIONS)}."
            )
        if isinstance(node, exp.Column) and node.table:
            raise ExpressionError(
                f"qualified column {node.sql()!r} in {text!r}: write entity__dimension (e.g. lead__segment) instead."
            )


def references(text: str) -> list[str]:
    """Column/dimension names used by an expression, in order of appearance (for validation)."""
    tree = parse(text)
    seen: list[str] = []
    for col in tree.find_all(exp.Column):
        if col.name not in seen:
            seen.append(col.name)
    return seen


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


def to_ibis(tree: exp.Expression | str, resolve: Resolver) -> ir.Value:
    """Build the Ibis expression for a parsed (or raw) expression; ``resolve`` maps names to Ibis values."""
    if isinstance(tree, str):
        tree = parse(tree)

    def go(node: exp.Expression) -> Any:
        if isinstance(node, exp.Paren):
            return go(node.this)
        if isinstance(node, exp.Column):
            return resolve(node.name)
        if isinstance(node, exp.Literal):
            return ibis.literal(_literal(node))
        if isinstance(node, exp.Boolean):
            return ibis.literal(bool(node.this))
        if isinstance(node, exp.Null):
            return ibis.null()
        if isinstance(node, exp.Neg):
            return -go(node.this)
        if isinstance(node, exp.Not):
            if isinstance(node.this, exp.Is):
                return go(node.this.this).notnull()
            return ~go(node.this)
        if isinstance(node, exp.Is):
            return go(node.this).isnull()
        binary: dict[type, Callable[[Any, Any], Any]] = {
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
        for cls, fn in binary.items():
            if type(node) is cls:
                return fn(_wrap(go(node.this)), _wrap(go(node.expression)))
        if isinstance(node, exp.In):
            return go(node.this).isin([go(e) for e in node.expressions])
        if isinstance(node, exp.Between):
            return go(node.this).between(go(node.args["low"]), go(node.args["high"]))
        if isinstance(node, exp.Case):
            case = ibis.cases(
                *[(go(i.this), go(i.args["true"])) for i in node.args["ifs"]],
                else_=go(node.args["default"]) if node.args.get("default") else None,
            )
            return case
        if isinstance(node, exp.If):
            return ibis.ifelse(go(node.this), go(node.args["true"]), go(node.args.get("false") or exp.Null()))
        if isinstance(node, exp.Coalesce):
            return ibis.coalesce(go(node.this), *[go(e) for e in node.expressions])
        if isinstance(node, exp.Abs):
            return go(node.this).abs()
        if isinstance(node, exp.Greatest):
            return ibis.greatest(go(node.this), *[go(e) for e in node.expressions])
        if isinstance(node, exp.Least):
            return ibis.least(go(node.this), *[go(e) for e in node.expressions])
        if isinstance(node, exp.Nullif):
            return go(node.this).nullif(go(node.expression))
        if isinstance(node, exp.Lower):
            return go(node.this).lower()
        if isinstance(node, exp.Upper):
            return go(node.this).upper()
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            args = [go(e) for e in node.expressions]
            if name in ("days_between", "hours_between"):
                if len(args) != 2:
                    raise ExpressionError(f"{name}(start, end) takes two arguments")
                start, end = args
                if name == "days_between":  # whole calendar days, like a date difference in a spreadsheet
                    return (_epoch(_as_date(end)) - _epoch(_as_date(start))) / 86400
                return (_epoch(end) - _epoch(start)) / 3600
        raise ExpressionError(f"cannot translate {node.sql()!r}")

    return go(tree)


def _wrap(value: Any) -> Any:
    return ibis.literal(value) if isinstance(value, bool | int | float | str) else value


def _as_date(v: ir.Value) -> ir.Value:
    return v.date() if v.type().is_timestamp() else v


def _epoch(v: ir.Value) -> ir.Value:
    """Seconds since 1970 for a date or timestamp (dates at midnight), as a float."""
    if v.type().is_date():
        v = v.cast("timestamp")
    return v.epoch_seconds().cast("float64")
