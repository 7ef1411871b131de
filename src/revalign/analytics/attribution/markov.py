"""Markov-chain attribution with exact removal effects (absorbing-chain algebra, no simulation).

The chain: ``(start)`` → touch states → ``(conversion)`` or ``(null)``, with transition probabilities counted
from the path table. Order ``k`` uses the last ``k`` channels as the state (the first states of a path hold
fewer). The probability of converting from ``(start)`` is the absorption probability ``h`` solving
``(I − Q) h = r`` (``Q`` = transient-to-transient probabilities, ``r`` = one-step conversion probabilities).
Removing channel ``c`` sends every state that contains ``c`` to ``(null)``; its *removal effect* is
``1 − P(conversion without c) / P(conversion)``. Credits are total conversions × removal effect / Σ removal
effects (Anderl et al. 2016, "Mapping the customer journey"), exactly what ChannelAttribution estimates by
simulation — here solved exactly, one linear solve per channel.

Revenue uses the same chain with a reward on each conversion step equal to the mean value of the conversions
that ended in that state, so a channel that tends to close big deals gets a larger value removal effect.

Only small aggregates come into numpy: either the path table (one row per distinct path; its steps are split
on the Arrow buffer and transitions counted by one weighted ``bincount``, see :func:`chain_from_steps`) or,
with :meth:`MarkovAttribution.fit_transitions`, the transition counts themselves, computed on the engine by
:func:`~revalign.analytics.attribution.journeys.transition_counts`. Chains with many states use sparse LU.
"""

from __future__ import annotations

from typing import ClassVar

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from revalign.analytics.attribution.chain import CONVERSION, NULL, Chain, chain_from_steps, chain_from_transitions
from revalign.analytics.attribution.counts import validated_paths
from revalign.analytics.attribution.estimator import AttributionEstimator
from revalign.analytics.attribution.steps import raw_steps
from revalign.errors import DataError

_DENSE_LIMIT = 1500


class MarkovAttribution(AttributionEstimator):
    """Exact Markov-chain attribution of order ``order`` (scikit-learn estimator contract).

    Parameters
    ----------
    order : int
        Memory of the chain: the state is the last ``order`` channels.
    separator : str
        Character between steps in the ``path`` strings.

    ``fit(paths)`` learns from a path table; ``fit_transitions(counts)`` from transition counts made on the
    engine (:func:`~revalign.analytics.attribution.journeys.transition_counts`), so only the small count
    table leaves the engine. Both give the same chain, hence the same removal effects and credit.

    Attributes (after ``fit``)
    --------------------------
    channels_ : list[str]
    states_ : list[str]  — transient states, ``(start)`` first; higher-order states read ``"a,b"``.
    transition_matrix_ : DataFrame — ``from_state, to_state, probability`` (self-loops included).
    conversion_rate_ : float — P(conversion) from ``(start)``, exact.
    removal_effects_ : Series — per channel, in [0, 1].
    removal_effects_value_ : Series — the same for conversion value.
    total_conversions_, total_value_ : float
    """

    score_column: ClassVar[str] = "removal_effect"

    def __init__(self, *, order: int = 1, separator: str = ">") -> None:
        self.order = order
        self.separator = separator

    def _check_order(self) -> None:
        if not isinstance(self.order, int) or isinstance(self.order, bool) or self.order < 1:
            raise ValueError(f"order must be an integer >= 1. Got {self.order!r} instead.")

    def fit(self, paths: pd.DataFrame, y: object = None) -> MarkovAttribution:
        """Learn the chain from a path table ``path, conversions, nulls[, value]`` (paths may repeat)."""
        self._check_order()
        paths = validated_paths(paths)
        if paths.empty:
            raise DataError("no paths to fit: the path table is empty (or every row has 0 conversions and nulls)")
        ids, lengths, lut, channels = raw_steps(paths, self.separator)
        chain = chain_from_steps(
            ids,
            lengths,
            lut,
            channels,
            self.order,
            paths["conversions"].to_numpy(),
            paths["nulls"].to_numpy(),
            paths["value"].to_numpy(),
        )
        return self._solve(chain)

    def fit_transitions(self, counts: pd.DataFrame | pa.Table | ir.Table) -> MarkovAttribution:
        """Learn the chain from transition counts ``from_state, to_state, count[, value]``.

        ``counts`` is pandas, Arrow, or an Ibis table (executed here — it is small: one row per observed
        transition). Rows into ``(conversion)`` carry in ``value`` the summed value of those conversions. The
        states must be of this estimator's order: ``transition_counts(touches, order=self.order)``.
        """
        self._check_order()
        if isinstance(counts, ir.Table):
            counts = counts.to_pyarrow()
        if isinstance(counts, pa.Table):
            counts = counts.to_pandas()
        if not isinstance(counts, pd.DataFrame):
            raise DataError(f"counts must be a DataFrame, Arrow or Ibis table. Got {type(counts).__name__}.")
        chain = chain_from_transitions(counts, self.order)
        if not len(chain.channels) or chain.conv.sum() + chain.null.sum() <= 0:
            raise DataError("no transitions to fit: the transition counts hold no journey")
        return self._solve(chain)

    def _solve(self, chain: Chain) -> MarkovAttribution:
        n, m = len(chain.labels), len(chain.channels)
        cv, nv = n, n + 1  # absorbing columns
        rows = np.concatenate([chain.src, np.arange(n), np.arange(n)])
        cols = np.concatenate([chain.dst, np.full(n, cv), np.full(n, nv)])
        vals = np.concatenate([chain.weight, chain.conv, chain.null])
        counts = sp.coo_matrix((vals, (rows, cols)), shape=(n, n + 2)).tocsr()
        counts.sum_duplicates()
        counts.eliminate_zeros()
        out_total = np.asarray(counts.sum(axis=1)).ravel()
        inv = 1.0 / np.where(out_total > 0, out_total, 1.0)
        probs = sp.diags(inv) @ counts
        # expected value collected on the conversion step from each state: P(i→conv) × mean value there
        reward_value = np.where(chain.conv > 0, chain.value * inv, 0.0)
        q = probs[:, :n].tocsr()
        r = np.asarray(probs[:, cv].todense()).ravel()
        p_conv, p_value = self._absorb(q, r, reward_value, np.ones(n, dtype=bool))
        re_conv, re_value = np.zeros(m), np.zeros(m)
        for c in range(m):
            keep = ~chain.member[:, c]
            pc, pv = self._absorb(q, r, reward_value, keep)
            re_conv[c] = 1.0 - pc / p_conv if p_conv > 0 else 0.0
            re_value[c] = 1.0 - pv / p_value if p_value > 0 else 0.0
        coo = probs.tocoo()
        names = np.array([*chain.labels, CONVERSION, NULL], dtype=object)
        channels = list(chain.channels)
        self.channels_ = channels
        self.states_ = list(chain.labels)
        self.transition_matrix_ = (
            pd.DataFrame({"from_state": names[coo.row], "to_state": names[coo.col], "probability": coo.data})
            .sort_values(["from_state", "to_state"])
            .reset_index(drop=True)
        )
        self.conversion_rate_ = float(p_conv)
        # round-off can leave -1e-17; a removal effect is a probability drop, so it is clipped into [0, 1]
        self.removal_effects_ = pd.Series(np.clip(re_conv, 0.0, 1.0), index=channels, name="removal_effect")
        self.removal_effects_value_ = pd.Series(np.clip(re_value, 0.0, 1.0), index=channels, name="removal_effect")
        self.total_conversions_ = float(chain.conv.sum())
        self.total_value_ = float(chain.value.sum())
        return self

    @staticmethod
    def _absorb(q: sp.csr_matrix, r: np.ndarray, reward: np.ndarray, keep: np.ndarray) -> tuple[float, float]:
        """Absorption probability into conversion (and expected value) from (start), states outside ``keep``
        sent to null: solve ``(I − D Q) h = D r`` with ``D = diag(keep)``."""
        n = q.shape[0]
        d = sp.diags(keep.astype(float))
        a = sp.identity(n, format="csc") - (d @ q).tocsc()
        rhs = np.stack([r * keep, reward * keep], axis=1)
        h = np.linalg.solve(a.toarray(), rhs) if n <= _DENSE_LIMIT else splu(a).solve(rhs)
        return float(h[0, 0]), float(h[0, 1])

    def _scores(self) -> tuple[pd.Series, pd.Series]:
        return self.removal_effects_, self.removal_effects_value_
