"""Shapley attribution: exact enumeration vs the closed form and vs brute force over every channel order."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revalign.analytics.attribution import ShapleyAttribution
from revalign.errors import NotFittedError


@pytest.fixture(scope="module")
def ca_paths(shared_data) -> pd.DataFrame:
    raw = pd.read_csv(shared_data / "channelattribution_paths" / "Data.csv", sep=";")
    names = {"total_conversions": "conversions", "total_null": "nulls", "total_conversion_value": "value"}
    return raw.rename(columns=names)


def closed_form(paths: pd.DataFrame) -> dict[str, float]:
    """Zhao et al. 2018's simplified Shapley value: each journey's conversions split evenly over its channel set."""
    out: dict[str, float] = {}
    for path, conv in zip(paths["path"], paths["conversions"], strict=True):
        channels = {s.strip() for s in path.split(">")}
        for c in channels:
            out[c] = out.get(c, 0.0) + conv / len(channels)
    return out


def brute_force(paths: pd.DataFrame, coalition: str) -> dict[str, float]:
    """Average marginal contribution over all m! channel orders, worth computed by scanning the journeys."""
    triples = paths[["path", "conversions", "nulls"]].itertuples(index=False)
    sets = [(frozenset(s.strip() for s in p.split(">")), c, c + n) for p, c, n in triples]
    channels = sorted(set().union(*(s for s, _, _ in sets)))

    def worth(coal: set[str]) -> float:
        conv = sum(c for s, c, _ in sets if s <= coal)
        if coalition == "subset":
            return conv
        journeys = sum(j for s, _, j in sets if s <= coal)
        return conv / journeys if journeys else 0.0

    phi = dict.fromkeys(channels, 0.0)
    orders = list(itertools.permutations(channels))
    for order in orders:
        coal: set[str] = set()
        for c in order:
            before = worth(coal)
            coal.add(c)
            phi[c] += worth(coal) - before
    return {c: v / len(orders) for c, v in phi.items()}


def test_exact_subset_game_equals_the_closed_form_on_real_paths(ca_paths):
    model = ShapleyAttribution().fit(ca_paths)
    assert model.exact_
    expected = closed_form(ca_paths)
    for channel, value in expected.items():
        assert model.shapley_values_[channel] == pytest.approx(value, rel=1e-9), channel
    assert model.credit()["conversions"].sum() == pytest.approx(ca_paths["conversions"].sum())


rows = st.lists(
    st.tuples(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4), st.integers(0, 6), st.integers(0, 6)),
    min_size=1,
    max_size=10,
).filter(lambda r: sum(x[1] for x in r) > 0)


@settings(max_examples=30, deadline=None)
@given(data=rows, coalition=st.sampled_from(["subset", "rate"]))
def test_exact_enumeration_equals_brute_force_over_all_orders(data, coalition):
    frame = pd.DataFrame(
        {
            "path": [" > ".join(p) for p, _, _ in data],
            "conversions": [c for _, c, _ in data],
            "nulls": [n for *_, n in data],
        }
    )
    frame = frame[frame.conversions + frame.nulls > 0]  # a path nobody took carries no information
    model = ShapleyAttribution(coalition=coalition).fit(frame)
    expected = brute_force(frame, coalition)
    for channel, value in expected.items():
        assert model.shapley_values_[channel] == pytest.approx(value, abs=1e-9), channel


def test_permutation_sampling_approximates_the_exact_values(ca_paths):
    exact = ShapleyAttribution().fit(ca_paths).credit().set_index("channel")["conversions"]
    sampled = ShapleyAttribution(max_exact_channels=0, n_permutations=3000, random_state=1).fit(ca_paths)
    assert not sampled.exact_
    got = sampled.credit().set_index("channel")["conversions"]
    big = exact[exact >= 0.01 * exact.sum()]
    assert ((got[big.index] - big).abs() / big).max() < 0.05  # Monte Carlo: unbiased, ~1/sqrt(3000) noise
    assert got.sum() == pytest.approx(exact.sum())


def test_rate_game_credits_still_sum_to_conversions(ca_paths):
    credit = ShapleyAttribution(coalition="rate").fit(ca_paths).credit()
    assert credit["conversions"].sum() == pytest.approx(ca_paths["conversions"].sum())
    assert math.isfinite(credit["value"].sum())


def test_unknown_coalition_and_unfitted_use_are_errors():
    frame = pd.DataFrame({"path": ["a"], "conversions": [1], "nulls": [0]})
    with pytest.raises(ValueError, match="'subset' or 'rate'"):
        ShapleyAttribution(coalition="equal").fit(frame)
    with pytest.raises(NotFittedError):
        ShapleyAttribution().credit()
