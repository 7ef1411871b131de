"""Alignment of pay: how much of what a plan pays is tied to the north star, and whether it pays the people who
contribute most to it the most.

Three figures, each a different way a plan can pay for the wrong thing:

- **north-star share (as written)** — :attr:`CompPlan.north_star_share`: the share of the measures' weight carried by
  measures marked ``north_star: true``;
- **north-star share (as paid)** — per plan and per person, of the variable pay the measures and SPIFs earned (the
  statement lines ``tier N``/``rate``/``cap``/``clawback`` of a measure, and ``spif``), the share earned on north-star
  measures and SPIFs (a SPIF is paid per won new-business deal, so it is north-star pay). The SLA, plan-cap and draw
  lines scale or move pay without tying it to anything, so they are left out of both sides. A plan can weigh its
  north-star measure at 80 % and still pay most of its money for pipeline when the quotas are high;
- **rank correlation** — Spearman's ρ between each person's payout and their *audited contribution* to the north
  star (:func:`audited_contribution`: won new-business revenue they own, on the tables with the credit audit's
  findings undone, so a re-labelled deal counts as what it was). ρ near 1: the plan pays most to those who bring the
  most revenue; near 0 or below: pay and contribution have come apart. Ties take their average rank (pandas
  ``rank(method="average")``, the definition scipy's ``spearmanr`` uses), and ρ is the Pearson correlation of the
  ranks; it is undefined (``NaN``) for fewer than two people or when every payout (or every contribution) is equal.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from revalign.definitions.comp import CompPlan
from revalign.model.access import Tables

DateLike = str | dt.date | dt.datetime | None

MEASURE_LINES = frozenset({"tier", "rate", "cap", "clawback"})
"""Statement lines a measure earns (``tier N`` is matched by its first word)."""
CONTRIBUTION = "audited_revenue"
"""The column holding a person's audited contribution (a currency, by its ``_revenue`` suffix)."""


def audited_contribution(tables: Tables, *, start: DateLike = None, end: DateLike = None) -> pd.DataFrame:
    """``user_id, audited_revenue``: won new-business revenue per deal owner, closed in ``[start, end)``.

    Pass the audited tables (``analytics.audit.credit.audited_tables``, the façade's ``credit_tables("audited")``)
    for the audited contribution. The sum runs on the engine; one row per owner reaches pandas."""
    o = tables.table("opportunities")
    cond = (o.deal_type == "new_business") & o.is_won & o.closed_at.notnull() & o.owner_id.notnull()
    if start is not None:
        cond &= o.closed_at >= pd.Timestamp(start).to_pydatetime()
    if end is not None:
        cond &= o.closed_at < pd.Timestamp(end).to_pydatetime()
    won = o.filter(cond)
    expr = won.group_by(user_id=won.owner_id).aggregate(**{CONTRIBUTION: won.amount.sum()})
    frame = tables.to_pandas(expr)
    frame[CONTRIBUTION] = frame[CONTRIBUTION].astype(float).fillna(0.0)
    return frame.sort_values("user_id").reset_index(drop=True)


def _variable_lines(statements: pd.DataFrame, plan: CompPlan) -> pd.DataFrame:
    """The measure and SPIF lines of ``statements``, with ``north_star`` saying whether each is north-star pay."""
    kind = statements["line"].astype(str).str.split(" ").str[0]
    lines = statements[kind.isin(MEASURE_LINES) | (kind == "spif")]
    star = {m.name for m in plan.measures if m.north_star}
    return lines.assign(north_star=(lines["line"] == "spif") | lines["measure"].isin(sorted(star)))


def _share(lines: pd.DataFrame) -> float:
    total = float(lines["amount"].sum())
    return float(lines.loc[lines["north_star"], "amount"].sum()) / total if total > 0 else float("nan")


def paid_north_star_share(statements: pd.DataFrame, plan: CompPlan) -> float:
    """Of the variable pay the measures and SPIFs earned under ``plan``, the share earned on north-star pay
    (``NaN`` when nothing was earned)."""
    return _share(_variable_lines(statements, plan))


def person_north_star_share(statements: pd.DataFrame, plan: CompPlan) -> pd.DataFrame:
    """``user_id, north_star_share``: :func:`paid_north_star_share` per person (as paid to them)."""
    lines = _variable_lines(statements, plan)
    rows = [(user, _share(g)) for user, g in lines.groupby("user_id", sort=True)]
    return pd.DataFrame(rows, columns=["user_id", "north_star_share"])


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rank correlation of two aligned series (average ranks for ties; ``NaN`` when undefined)."""
    if len(x) < 2:
        return float("nan")
    rx, ry = x.rank(method="average"), y.rank(method="average")
    if rx.nunique() < 2 or ry.nunique() < 2:
        return float("nan")
    return float(rx.corr(ry))


def pay_and_contribution(totals: pd.DataFrame, contribution: pd.DataFrame, people: pd.Series) -> pd.DataFrame:
    """``user_id, payout, audited_revenue`` for every plan member in ``people`` and everyone paid: a member with no
    payout has 0, one with no won deal a contribution of 0 (nobody is left out of the correlation for it)."""
    paid = totals.groupby("user_id")["payout"].sum()
    ids = sorted(set(paid.index.astype(str)) | set(people.astype(str)))
    out = pd.DataFrame({"user_id": ids})
    out["payout"] = out["user_id"].map(paid).astype(float).fillna(0.0)
    out[CONTRIBUTION] = out["user_id"].map(contribution.set_index("user_id")[CONTRIBUTION]).astype(float).fillna(0.0)
    return out


__all__ = [
    "CONTRIBUTION",
    "MEASURE_LINES",
    "audited_contribution",
    "paid_north_star_share",
    "pay_and_contribution",
    "person_north_star_share",
    "spearman",
]
