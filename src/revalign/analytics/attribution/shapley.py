"""Shapley-value attribution over channel sets (cooperative game theory, order of touches ignored).

Formulation (Zhao et al. 2018, "Shapley value methods for attribution modeling in online advertising",
§3, following Dalessandro et al. 2012): a journey is reduced to the *set* of channels it touched, and the worth
of a coalition ``S`` of channels is

- ``coalition="subset"`` (default): ``v(S)`` = conversions of the journeys whose channel set is a subset of
  ``S`` — what ``S`` alone would have produced. The game is efficient (``Σ φ = v(all) = all conversions``),
  and it decomposes into unanimity games, so ``φ_c = Σ_{sets T ∋ c} conversions(T) / |T|`` (Zhao et al.'s
  "simplified Shapley value"); the tests check the enumeration below against that closed form.
- ``coalition="rate"``: ``v(S)`` = conversion rate of the journeys whose channel set is a subset of ``S``
  (conversions / journeys, 0 when none). ``Σ φ`` is then the overall rate, so credits are the shares
  ``φ_c / Σ φ`` of the total conversions (negative values are possible when a channel lowers the rate).

Exact computation enumerates all ``2^m`` coalitions with a subset-sum (zeta) transform — ``O(m·2^m)``, fine up
to ``max_exact_channels`` (15 by default: 32,768 coalitions). Above that, ``φ`` is estimated by permutation
sampling (Castro, Gómez & Tejada 2009): for each random channel order, a channel set joins the coalition at the
position of its last member, so each permutation's marginal contributions cost one pass over the observed sets.
The estimate is unbiased; its standard error shrinks as ``1/sqrt(n_permutations)``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pandas as pd

from revalign.analytics.attribution.counts import validated_paths
from revalign.analytics.attribution.estimator import AttributionEstimator
from revalign.analytics.attribution.steps import split_paths


def channel_sets(paths: pd.DataFrame, sep: str = ">") -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    """Membership matrix of distinct channel sets (bool, sets × channels) with their summed counts."""
    paths = validated_paths(paths)
    codes, path_index, channels = split_paths(paths, sep)
    member = np.zeros((len(paths), len(channels)), dtype=bool)
    member[path_index, codes] = True
    frame = pd.DataFrame(member)
    sums = paths[["conversions", "nulls", "value"]].groupby([frame[c] for c in frame.columns]).sum()
    sets = np.array(sums.index.to_list(), dtype=bool).reshape(len(sums), len(channels))
    return sets, sums.reset_index(drop=True), channels


def _zeta(f: np.ndarray, m: int) -> np.ndarray:
    """Subset sums: ``g[S] = Σ_{T ⊆ S} f[T]`` over bitmask-indexed arrays (in place on a copy)."""
    g = f.astype(float).copy()
    for i in range(m):
        g = g.reshape(-1, 2, 2**i)  # axis 1 = bit i
        g[:, 1, :] += g[:, 0, :]
        g = g.reshape(-1)
    return g


def _shapley_exact(values: np.ndarray, m: int) -> np.ndarray:
    """Exact Shapley values from the worth of every coalition (bitmask-indexed)."""
    masks = np.arange(2**m)
    size = np.zeros(2**m, dtype=np.int64)
    for i in range(m):
        size += (masks >> i) & 1
    weight = np.array([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) for s in range(m)])
    phi = np.zeros(m)
    for i in range(m):
        without = masks[((masks >> i) & 1) == 0]
        phi[i] = np.sum(weight[size[without]] * (values[without | (1 << i)] - values[without]))
    return phi


class ShapleyAttribution(AttributionEstimator):
    """Shapley attribution over observed channel sets (scikit-learn estimator contract; see module docstring).

    Attributes (after ``fit``): ``channels_``, ``shapley_values_`` (Series), ``shapley_values_value_``,
    ``exact_`` (False when sampled), ``total_conversions_``, ``total_value_``.
    """

    score_column: ClassVar[str] = "shapley_value"

    def __init__(
        self,
        *,
        coalition: str = "subset",
        max_exact_channels: int = 15,
        n_permutations: int = 2000,
        random_state: int | None = 0,
        separator: str = ">",
    ) -> None:
        self.coalition = coalition
        self.max_exact_channels = max_exact_channels
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.separator = separator

    def fit(self, paths: pd.DataFrame, y: object = None) -> ShapleyAttribution:
        """Learn the Shapley values of the channels from a path table ``path, conversions, nulls[, value]``."""
        if self.coalition not in ("subset", "rate"):
            raise ValueError(f"coalition must be 'subset' or 'rate'. Got {self.coalition!r} instead.")
        sets, sums, channels = channel_sets(paths, self.separator)
        m = len(channels)
        conv, value = sums["conversions"].to_numpy(), sums["value"].to_numpy()
        journeys = conv + sums["nulls"].to_numpy()
        exact = m <= self.max_exact_channels
        if exact:
            masks = sets.astype(np.int64) @ (1 << np.arange(m, dtype=np.int64))
            phi_c = self._exact(masks, conv, journeys, m)
            phi_v = self._exact(masks, value, journeys, m)
        else:
            phi_c, phi_v = self._sampled(sets, conv, value, journeys, m)
        self.exact_ = exact
        self.channels_ = channels
        self.shapley_values_ = pd.Series(phi_c, index=channels, name="shapley_value")
        self.shapley_values_value_ = pd.Series(phi_v, index=channels, name="shapley_value")
        self.total_conversions_ = float(conv.sum())
        self.total_value_ = float(value.sum())
        return self

    def _exact(self, masks: np.ndarray, amount: np.ndarray, journeys: np.ndarray, m: int) -> np.ndarray:
        num = _zeta(np.bincount(masks, weights=amount, minlength=2**m), m)
        if self.coalition == "subset":
            return _shapley_exact(num, m)
        den = _zeta(np.bincount(masks, weights=journeys, minlength=2**m), m)
        return _shapley_exact(np.divide(num, den, out=np.zeros_like(num), where=den > 0), m)

    def _sampled(
        self, sets: np.ndarray, conv: np.ndarray, value: np.ndarray, journeys: np.ndarray, m: int
    ) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.random_state)
        phi_c, phi_v = np.zeros(m), np.zeros(m)
        for _ in range(self.n_permutations):
            order = rng.permutation(m)
            rank = np.empty(m, dtype=np.int64)
            rank[order] = np.arange(m)
            joins = np.where(sets, rank[None, :], -1).max(axis=1)  # position at which each set is complete
            for amount, phi in ((conv, phi_c), (value, phi_v)):
                worth = np.cumsum(np.bincount(joins, weights=amount, minlength=m))
                if self.coalition == "rate":
                    den = np.cumsum(np.bincount(joins, weights=journeys, minlength=m))
                    worth = np.divide(worth, den, out=np.zeros_like(worth), where=den > 0)
                phi[order] += np.diff(np.r_[0.0, worth])
        return phi_c / self.n_permutations, phi_v / self.n_permutations

    def _scores(self) -> tuple[pd.Series, pd.Series]:
        return self.shapley_values_, self.shapley_values_value_
