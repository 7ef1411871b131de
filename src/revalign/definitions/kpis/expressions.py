"""The expression language of KPI definitions: filters and ``expr`` parsed with sqlglot through a whitelist.

MetricFlow pastes ``filter`` and ``expr`` into SQL. revalign parses them instead (and the compiler rebuilds them
as Ibis expressions, :mod:`revalign.kpis.filters`), allowing only: column references (plain names or
``{{ Dimension('entity__dimension') }}``), literals, arithmetic, comparisons, ``and``/``or``/``not``, ``in``,
``between``, ``is [not] null``, ``case when`` and a few named functions. Nothing user-written reaches a database
as text, so the same KPI runs on every engine and a catalog cannot inject SQL. Parsing lives with the
definitions because validation needs it without compiling anything.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

TEMPLATE = re.compile(
    r"\{\{\s*(Dimension|TimeDimension|Entity|Metric)\(\s*['\"]([A-Za-z_][\w]*)['\"]\s*(?:,\s*['\"]?(\w+)['\"]?\s*)?\)"
    r"(?:\.grain\(\s*['\"](\w+)['\"]\s*\))?\s*\}\}"
)
FUNCTIONS = ("coalesce", "abs", "greatest", "least", "days_between", "hours_between", "nullif", "lower", "upper")
"""Named functions allowed in expressions (everything else is rejected at validation time)."""


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
    if not isinstance(tree, exp.Expression):  # sqlglot types parse_one as its base class
        raise ExpressionError(f"cannot parse {text!r}: not an expression")
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
