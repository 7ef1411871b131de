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

Only the aggregated path table (one row per distinct path) comes into numpy; counting the transitions is
vectorised (no per-path Python loop), and chains with many states use sparse LU solves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu
from sklearn.base import BaseEstimator

from revalign.errors import DataError, NotFittedError

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_DENSE_LIMIT = 1500


def split_paths(paths: pd.DataFrame, sep: str = ">") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Flatten path strings: (channel code per step, path index per step, channel names sorted).

    Steps are split on ``sep`` and stripped, so ``"a > b"`` and ``"a>b"`` are the same path. An empty step
    (``"a >  > b"``) is an error naming the row: it would otherwise become a channel called "". Splitting runs
    in Arrow's C++ kernels: at a million paths, Python-level string handling would dominate the whole fit.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(paths["path"].astype(str).to_numpy(dtype=object), type=pa.large_string())
    lists = pc.split_pattern(arr, sep)
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    path_index = np.repeat(np.arange(len(paths)), lengths)
    empty = pc.equal(pc.utf8_length(flat), 0).to_numpy(zero_copy_only=False)
    if empty.any():
        row = int(path_index[np.flatnonzero(empty)[0]])
        raise DataError(
            "a path has an empty step",
            row=row + 1,
            column="path",
            rule="non-empty steps",
            value=paths["path"].iloc[row],
        )
    encoded = (
        pc.dictionary_encode(flat).combine_chunks() if hasattr(flat, "combine_chunks") else pc.dictionary_encode(flat)
    )
    names = [str(n) for n in encoded.dictionary.to_pylist()]
    order = np.argsort(np.array(names, dtype=object))
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return codes.astype(np.int64), path_index, [names[i] for i in order]


def _validated(paths: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(paths, pd.DataFrame):
        raise DataError(f"paths must be a pandas DataFrame (path, conversions, nulls). Got {type(paths).__name__}.")
    missing = [c for c in ("path", "conversions", "nulls") if c not in paths.columns]
    if missing:
        raise DataError(f"paths lacks column(s) {missing}", column=missing[0], rule="path table columns")
    out = paths.reset_index(drop=True)
    for col in ("conversions", "nulls", "value"):
        if col not in out.columns:
            if col == "value":
                out = out.assign(value=0.0)
            continue
        values = pd.to_numeric(out[col], errors="coerce").astype("float64")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy()) | (values.to_numpy() < 0))
        if len(bad):
            raise DataError(
                "counts must be finite and >= 0",
                row=int(bad[0]) + 1,
                column=col,
                rule="non-negative number",
                value=out[col].iloc[bad[0]],
            )
        out[col] = values
    out = out[out["path"].notna() & ((out["conversions"] + out["nulls"]) > 0)]
    return out.reset_index(drop=True)


class MarkovAttribution(BaseEstimator):
    """Exact Markov-chain attribution of order ``order`` (scikit-learn estimator contract).

    Parameters
    ----------
    order : int
        Memory of the chain: the state is the last ``order`` channels.
    separator : str
        Character between steps in the ``path`` strings.

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

    def __init__(self, *, order: int = 1, separator: str = ">") -> None:
        self.order = order
        self.separator = separator

    def fit(self, paths: pd.DataFrame, y: object = None) -> MarkovAttribution:
        """Learn the chain from a path table ``path, conversions, nulls[, value]`` (paths may repeat)."""
        if not isinstance(self.order, int) or self.order < 1:
            raise ValueError(f"order must be an integer >= 1. Got {self.order!r} instead.")
        paths = _validated(paths)
        if paths.empty:
            raise DataError("no paths to fit: the path table is empty (or every row has 0 conversions and nulls)")
        codes, path_index, channels = split_paths(paths, self.separator)
        m, k = len(channels), self.order
        if (m + 1) ** k >= 2**62:
            raise ValueError(f"order {k} with {m} channels has too many possible states; lower the order.")
        conv = paths["conversions"].to_numpy()
        nulls = paths["nulls"].to_numpy()
        value = paths["value"].to_numpy()
        n_steps = len(codes)
        starts = np.r_[0, np.flatnonzero(np.diff(path_index)) + 1]
        offset = np.arange(n_steps) - np.repeat(starts, np.diff(np.r_[starts, n_steps]))
        # state code: digits (code+1) of the last k channels in base m+1; 0-digits pad the path's first states
        base = m + 1
        state_code = np.zeros(n_steps, dtype=np.int64)
        for j in range(k):
            digit = np.zeros(n_steps, dtype=np.int64)
            ok = offset >= j
            digit[ok] = codes[np.flatnonzero(ok) - j] + 1
            state_code += digit * base**j
        uniq, state_id = np.unique(state_code, return_inverse=True)
        state_id = state_id + 1  # 0 is (start)
        n_states = len(uniq) + 1
        cv, nv = n_states, n_states + 1  # absorbing columns
        weight = (conv + nulls)[path_index]
        prev = np.r_[0, state_id[:-1]]
        prev[offset == 0] = 0
        last = np.r_[starts[1:] - 1, n_steps - 1]
        rows = np.concatenate([prev, state_id[last], state_id[last]])
        cols = np.concatenate([state_id, np.full(len(last), cv), np.full(len(last), nv)])
        vals = np.concatenate([weight, conv, nulls])
        counts = sp.coo_matrix((vals, (rows, cols)), shape=(n_states, n_states + 2)).tocsr()
        counts.sum_duplicates()
        out_total = np.asarray(counts.sum(axis=1)).ravel()
        probs = sp.diags(1.0 / np.where(out_total > 0, out_total, 1.0)) @ counts
        end_value = np.bincount(state_id[last], weights=value, minlength=n_states)
        # expected value collected on the conversion step from each state: P(i→conv) × mean value there
        conv_counts = np.asarray(counts[:, cv].todense()).ravel()
        reward_value = np.where(conv_counts > 0, end_value / np.where(out_total > 0, out_total, 1.0), 0.0)
        digits = np.stack([(uniq // base**j) % base - 1 for j in range(k)], axis=1)  # (n_states-1, k), -1 = pad
        q = probs[:, :n_states].tocsr()
        r = np.asarray(probs[:, cv].todense()).ravel()
        p_conv, p_value = self._absorb(q, r, reward_value, np.ones(n_states, dtype=bool))
        re_conv, re_value = np.zeros(m), np.zeros(m)
        for c in range(m):
            keep = np.r_[True, ~(digits == c).any(axis=1)]
            pc, pv = self._absorb(q, r, reward_value, keep)
            re_conv[c] = 1.0 - pc / p_conv if p_conv > 0 else 0.0
            re_value[c] = 1.0 - pv / p_value if p_value > 0 else 0.0
        labels = [START] + [",".join(channels[d] for d in row[::-1] if d >= 0) for row in digits]
        coo = probs.tocoo()
        names = np.array([*labels, CONVERSION, NULL], dtype=object)
        self.channels_ = channels
        self.states_ = labels
        self.transition_matrix_ = (
            pd.DataFrame({"from_state": names[coo.row], "to_state": names[coo.col], "probability": coo.data})
            .sort_values(["from_state", "to_state"])
            .reset_index(drop=True)
        )
        self.conversion_rate_ = float(p_conv)
        # round-off can leave -1e-17; a removal effect is a probability drop, so it is clipped into [0, 1]
        self.removal_effects_ = pd.Series(np.clip(re_conv, 0.0, 1.0), index=channels, name="removal_effect")
        self.removal_effects_value_ = pd.Series(np.clip(re_value, 0.0, 1.0), index=channels, name="removal_effect")
        self.total_conversions_ = float(conv.sum())
        self.total_value_ = float(value.sum())
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

    def _check_fitted(self) -> None:
        if not hasattr(self, "removal_effects_"):
            raise NotFittedError("This MarkovAttribution is not fitted yet: call fit(paths) first.")

    def credit(self, paths: pd.DataFrame | None = None) -> pd.DataFrame:
        """Credited ``conversions`` and ``value`` per channel: totals shared by removal effect.

        With ``paths`` the totals come from that table (e.g. one period), the shares from the fitted chain.
        """
        self._check_fitted()
        if paths is None:
            total_c, total_v = self.total_conversions_, self.total_value_
        else:
            paths = _validated(paths)
            total_c, total_v = float(paths["conversions"].sum()), float(paths["value"].sum())
        re, rv = self.removal_effects_, self.removal_effects_value_
        share = re / re.sum() if re.sum() > 0 else re * 0.0
        share_v = rv / rv.sum() if rv.sum() > 0 else rv * 0.0
        return pd.DataFrame(
            {
                "channel": self.channels_,
                "conversions": (share * total_c).to_numpy(),
                "value": (share_v * total_v).to_numpy(),
                "removal_effect": re.to_numpy(),
            }
        )
