"""Who accounts for most of a problem: the fewest people whose rows make up at least half of it.

Gaming and SLA breaches are rarely spread evenly: in the simulated company two reps make 65 of the 78 lead-source
overwrites. The first thing a CRO asks is "who", so the overview and the demo say it in one sentence ("2 people
account for 65 of 78 lead-source overwrites (83%): U0030 (40), U0027 (25)") and link to the rows. The rule is
plain and documented: sort people by their count (then by the amount at stake), take them until their share
reaches ``share``, at most ``most`` people; a problem no small group dominates says so ("spread over 9 people").
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from revalign.display import format_value


@dataclass(frozen=True)
class Concentration:
    """The fewest people covering ``share`` of ``total`` rows: each with their count; ``amount``: their stake."""

    what: str
    total: int
    people: tuple[tuple[str, int], ...]
    covered: int
    amount: float
    dominated: bool
    """True when at most ``most`` people cover the share; False: the problem is spread out."""

    def sentence(self, currency: str = "USD") -> str:
        """One line for people, e.g. ``2 people account for 65 of 78 lead-source overwrites (83%): U0030 (40), …``."""
        if self.total == 0:
            return f"No {self.what}."
        if not self.dominated:
            return f"{self.total:,} {self.what}, spread over many people (no {len(self.people)} account for half)."
        names = ", ".join(f"{who} ({n:,})" for who, n in self.people)
        share = format_value(self.covered / self.total, "percent")
        stake = f"; {format_value(self.amount, 'currency', currency=currency)} at stake" if self.amount else ""
        count = f"{len(self.people)} {'person accounts' if len(self.people) == 1 else 'people account'}"
        return f"{count} for {self.covered:,} of {self.total:,} {self.what} ({share}): {names}{stake}."


def concentration(
    rows: pd.DataFrame, who: str, what: str, *, amount: str | None = None, share: float = 0.5, most: int = 3
) -> Concentration:
    """The fewest values of ``who`` whose rows reach ``share`` of all ``rows`` (at most ``most``; see the module
    docstring). ``amount``: a column summed over their rows (the revenue at stake)."""
    if rows.empty:
        return Concentration(what, 0, (), 0, 0.0, False)
    names = rows[who].astype("object").where(rows[who].notna(), "unknown")
    counts = names.value_counts()
    if amount is not None:
        stakes = rows[amount].fillna(0).groupby(names).sum()
        order = pd.DataFrame({"n": counts, "stake": stakes.reindex(counts.index).fillna(0)})
        counts = order.sort_values(["n", "stake"], ascending=False, kind="stable")["n"]
    total = int(counts.sum())
    taken: list[tuple[str, int]] = []
    for name, n in counts.items():
        taken.append((str(name), int(n)))
        if sum(c for _, c in taken) >= share * total or len(taken) >= most:
            break
    covered = sum(c for _, c in taken)
    dominated = covered >= share * total
    chosen = {name for name, _ in taken}
    stake = float(rows.loc[names.isin(chosen), amount].fillna(0).sum()) if amount is not None else 0.0
    return Concentration(what, total, tuple(taken), covered, stake, dominated)


__all__ = ["Concentration", "concentration"]
