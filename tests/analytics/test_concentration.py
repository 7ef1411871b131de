"""Who accounts for most of a problem, on hand-made rows."""

from __future__ import annotations

import pandas as pd

from revalign.analytics.concentration import concentration


def rows(counts: dict[str, int], stake: dict[str, float] | None = None) -> pd.DataFrame:
    out = []
    for who, n in counts.items():
        out += [{"who": who, "amount": (stake or {}).get(who, 0.0) / n} for _ in range(n)]
    return pd.DataFrame(out)


def test_the_fewest_people_covering_half():
    # 40 + 25 = 65 of 78 ≥ 39: two people; 40 alone is 51 %: one is enough at share 0.5
    c = concentration(rows({"a": 40, "b": 25, "c": 13}, {"a": 800.0, "b": 300.0}), "who", "overwrites", amount="amount")
    assert c.people == (("a", 40),) and c.covered == 40 and c.total == 78 and c.dominated
    assert c.amount == 800.0
    assert c.sentence() == "1 person accounts for 40 of 78 overwrites (51.3%): a (40); $800 at stake."
    two = concentration(rows({"a": 40, "b": 25, "c": 13}), "who", "overwrites", share=0.8)
    assert two.people == (("a", 40), ("b", 25)) and two.covered == 65
    assert two.sentence() == "2 people account for 65 of 78 overwrites (83.3%): a (40), b (25)."


def test_a_spread_problem_says_so_and_ties_break_on_the_stake():
    spread = concentration(rows({k: 10 for k in "abcdefgh"}), "who", "breaches", most=3)
    assert not spread.dominated and spread.covered == 30 and spread.total == 80
    assert spread.sentence().startswith("80 breaches, spread over many people")
    tie = concentration(rows({"a": 5, "b": 5}, {"a": 10.0, "b": 99.0}), "who", "x", amount="amount")
    assert tie.people == (("b", 5),)  # equal counts: the larger stake first
    assert concentration(rows({}), "who", "x").sentence() == "No x."


def test_missing_people_count_as_unknown():
    frame = pd.DataFrame({"who": ["a", None, None, None]})
    assert concentration(frame, "who", "x").people == (("unknown", 3),)
