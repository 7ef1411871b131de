"""Plans side by side: what each would have cost over the same past periods, how it spreads the money, and whether
it pays for the north star (the what-if of docs/incentives.md).

Each plan's payouts (:mod:`.payout`, on the same records and quotas) become one summary row:

- ``total_cost`` — the sum of every payout (cost of sales: what the company pays, draws included);
- ``cost_share`` — ``total_cost`` ÷ ``new_revenue`` (won new-business revenue in the window);
- the distribution of pay per person (each person's payouts summed over the window, over the people paid):
  ``median_payout``, ``p90_payout`` (linear interpolation, numpy's default), ``max_payout``, the ``gini``
  coefficient (``Σᵢ (2i − n − 1)·xᵢ ÷ (n·Σx)`` over the sorted payouts, 0 = everyone paid the same, → 1 = one
  person takes it all) and ``top_decile_share`` (the share of the total paid to the best-paid ⌈n/10⌉ people);
- the alignment of pay (:mod:`.alignment`): ``north_star_share`` as written, ``paid_north_star_share`` as paid, and
  ``rank_correlation`` (Spearman's ρ between each person's payout and their audited contribution).

``people`` has one row per plan and person: the payout, the audited contribution and the north-star share as paid to
them, so "payout vs each person's audited contribution to the north star" can be read person by person.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from revalign.analytics.incentives.alignment import (
    CONTRIBUTION,
    paid_north_star_share,
    pay_and_contribution,
    person_north_star_share,
    spearman,
)
from revalign.analytics.incentives.payout import Payouts
from revalign.definitions.comp import CompPlan
from revalign.jsonsafe import records as json_records

SUMMARY_COLUMNS = (
    "plan",
    "people",
    "total_cost",
    "new_revenue",
    "cost_share",
    "median_payout",
    "p90_payout",
    "max_payout",
    "gini",
    "top_decile_share",
    "north_star_share",
    "paid_north_star_share",
    "rank_correlation",
)
PEOPLE_COLUMNS = ("plan", "user_id", "payout", CONTRIBUTION, "north_star_share")


@dataclass(frozen=True)
class PlanRun:
    """One plan's what-if: the ``label`` it is shown under (``ae_plan v2 (draft)``), the plan and its payouts."""

    label: str
    plan: CompPlan
    payouts: Payouts
    members: pd.Series
    """The user ids the plan applies to (``credit.members``): a member paid nothing still counts in the ranks."""


@dataclass(frozen=True)
class PlanComparison:
    """``summary`` (one row per plan, :data:`SUMMARY_COLUMNS`) and ``people`` (:data:`PEOPLE_COLUMNS`)."""

    summary: pd.DataFrame
    people: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        return self.summary

    def to_dict(self) -> dict[str, object]:
        return {"summary": json_records(self.summary), "people": json_records(self.people)}


def gini(values: Sequence[float] | pd.Series) -> float:
    """The Gini coefficient of non-negative amounts (``NaN`` when there are none or they sum to 0)."""
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), float(x.sum())
    if n == 0 or total <= 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * x).sum() / (n * total))


def top_decile_share(values: Sequence[float] | pd.Series) -> float:
    """The share of the total paid to the top ⌈n/10⌉ amounts (``NaN`` when the total is not positive)."""
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    total = float(x.sum())
    if len(x) == 0 or total <= 0:
        return float("nan")
    return float(x[: math.ceil(len(x) / 10)].sum() / total)


def _distribution(per_person: pd.Series) -> dict[str, float]:
    if per_person.empty:
        return dict.fromkeys(("median_payout", "p90_payout", "max_payout", "gini", "top_decile_share"), float("nan"))
    values = per_person.to_numpy(dtype=float)
    return {
        "median_payout": float(np.median(values)),
        "p90_payout": float(np.percentile(values, 90)),
        "max_payout": float(values.max()),
        "gini": gini(values),
        "top_decile_share": top_decile_share(values),
    }


def _summary_row(run: PlanRun, people: pd.DataFrame, new_revenue: float) -> dict[str, object]:
    paid = run.payouts.totals.groupby("user_id")["payout"].sum()
    total = float(paid.sum())
    return {
        "plan": run.label,
        "people": len(paid),
        "total_cost": total,
        "new_revenue": new_revenue,
        "cost_share": total / new_revenue if new_revenue > 0 else float("nan"),
        **_distribution(paid),
        "north_star_share": run.plan.north_star_share,
        "paid_north_star_share": paid_north_star_share(run.payouts.statements, run.plan),
        "rank_correlation": spearman(people["payout"], people[CONTRIBUTION]),
    }


def compare_plans(runs: Sequence[PlanRun], contribution: pd.DataFrame, *, new_revenue: float) -> PlanComparison:
    """The plans of ``runs`` side by side (see the module docstring).

    ``contribution``: ``user_id, audited_revenue`` (:func:`.alignment.audited_contribution` on the audited tables);
    ``new_revenue``: won new-business revenue in the same window (the denominator of ``cost_share``)."""
    rows, people = [], []
    for run in runs:
        mine = pay_and_contribution(run.payouts.totals, contribution, run.members)
        shares = person_north_star_share(run.payouts.statements, run.plan)
        mine = mine.merge(shares, on="user_id", how="left").assign(plan=run.label)
        rows.append(_summary_row(run, mine, new_revenue))
        people.append(mine[list(PEOPLE_COLUMNS)])
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    frame = pd.concat(people, ignore_index=True) if people else pd.DataFrame(columns=list(PEOPLE_COLUMNS))
    return PlanComparison(summary, frame.sort_values(["plan", "user_id"], kind="stable").reset_index(drop=True))


__all__ = [
    "PEOPLE_COLUMNS",
    "SUMMARY_COLUMNS",
    "PlanComparison",
    "PlanRun",
    "compare_plans",
    "gini",
    "top_decile_share",
]
