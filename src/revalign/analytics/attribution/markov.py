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

from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from scipy.sparse.linalg import splu
from sklearn.base import BaseEstimator

from revalign.analytics.attribution.steps import raw_steps
from revalign.errors import DataError, NotFittedError

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_DENSE_LIMIT = 1500


def _counts_checked(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` as float64, each finite and >= 0 (else a DataError naming the row); a missing ``value`` is 0.

    Shared by the path table and the transition-count table: both are counts a model trusts blindly.
    """
    for col in columns:
        if col not in frame.columns:
            if col == "value":
                frame = frame.assign(value=0.0)
            continue
        values = frame[col]
        if values.dtype != "float64":
            values = pd.to_numeric(values, errors="coerce").astype("float64")
        arr = values.to_numpy()
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))
        if len(bad):
            raise DataError(
                "counts must be finite and >= 0",
                row=int(bad[0]) + 1,
                column=col,
                rule="non-negative number",
                value=frame[col].iloc[bad[0]],
            )
        if values is not frame[col]:
            frame[col] = values
    return frame


def _validated(paths: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(paths, pd.DataFrame):
        raise DataError(f"paths must be a pandas DataFrame (path, conversions, nulls). Got {type(paths).__name__}.")
    missing = [c for c in ("path", "conversions", "nulls") if c not in paths.columns]
    if missing:
        raise DataError(f"paths lacks column(s) {missing}", column=missing[0], rule="path table columns")
    out = _counts_checked(paths.reset_index(drop=True), ("conversions", "nulls", "value"))
    keep = out["path"].notna().to_numpy() & ((out["conversions"] + out["nulls"]).to_numpy() > 0)
    return out if keep.all() else out[keep].reset_index(drop=True)


@dataclass(frozen=True)
class Chain:
    """Weighted transition counts of a Markov chain, before normalisation — what both fits reduce to.

    ``member[i, c]`` says whether transient state ``i`` holds channel ``c`` (row 0 is ``(start)``, holding
    none); ``src → dst`` carry ``weight`` journeys; ``conv``/``null`` count journeys ending in each state and
    ``value`` sums the value of the conversions that ended there.
    """

    channels: list[str]
    labels: list[str]
    member: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    conv: np.ndarray
    null: np.ndarray
    value: np.ndarray


def _step_weights_bincount(gram: np.ndarray, lengths: np.ndarray, weight: np.ndarray, size: int) -> np.ndarray:
    """``bincount(gram, weights=weight repeated over each path's steps)`` without materialising the repeat
    when most paths weigh 1 (distinct journeys mostly are): unweighted counts plus ``weight − 1`` on the
    steps of the other paths. Counts are sums of integers here, so both forms give the same floats."""
    other = np.flatnonzero(weight != 1.0)
    if len(other) > len(weight) // 4:
        return np.bincount(gram, weights=np.repeat(weight, lengths), minlength=size)
    counted = np.bincount(gram, minlength=size).astype(np.float64)
    if len(other):
        n = lengths[other]
        first = (np.cumsum(lengths) - lengths)[other]
        idx = np.repeat(first - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        counted += np.bincount(gram[idx], weights=np.repeat(weight[other] - 1.0, n), minlength=size)
    return counted


def chain_from_steps(
    ids: np.ndarray,
    lengths: np.ndarray,
    lut: np.ndarray,
    channels: list[str],
    order: int,
    conv: np.ndarray,
    nulls: np.ndarray,
    value: np.ndarray,
) -> Chain:
    """Count the chain from split paths (raw step ``ids``, ``lengths`` steps per path, ``lut`` raw id →
    channel code; see :func:`~revalign.analytics.attribution.steps.raw_steps`) without a Python loop.

    A state is encoded as the digits ``symbol + 1`` of its last ``order`` steps in base ``symbols + 1`` (newest
    in the lowest digit; 0-digits pad a path's first states), so ``(start)`` is code 0 and the next state is
    ``(prev · base + symbol + 1) mod base^order``: a transition is one integer ``prev · base + symbol + 1``
    and counting transitions is one ``bincount`` (``np.unique`` when the code space is too large). First
    order counts raw step ids and maps the few counted pairs to channels afterwards; higher orders map every
    step to its channel first (two raw spellings of one channel must make one state).
    """
    m, k = len(channels), order
    if k == 1:
        symbols, to_channel = ids, lut
    else:
        symbols, to_channel = lut[ids], np.arange(m)
    base = len(to_channel) + 1
    if base ** (k + 1) >= 2**62:
        raise ValueError(f"order {k} with {m} channels has too many possible states; lower the order.")
    n_steps = len(symbols)
    path_first = np.cumsum(lengths) - lengths
    last = np.append(path_first[1:] - 1, n_steps - 1)
    if k == 1:
        gram = np.empty(n_steps, dtype=np.int64)  # (prev + 1) · base + symbol + 1, built in place
        gram[1:] = symbols[:-1]
        gram += 1
        gram[path_first] = 0
        gram *= base
        gram += symbols
        gram += 1
        last_state = symbols[last] + 1
    else:
        state = symbols + 1
        pos = np.arange(n_steps) - np.repeat(path_first, lengths)
        cur = state.copy()
        for j in range(1, k):
            ok = np.flatnonzero(pos >= j)
            state[ok] += cur[ok - j] * base**j
        prev = np.empty_like(state)
        prev[1:] = state[:-1]
        prev[path_first] = 0
        gram = prev * base + cur
        last_state = state[last]
    size = base ** (k + 1)
    weight = conv + nulls
    if size <= 1 << 22:
        counted = _step_weights_bincount(gram, lengths, weight, size)
        grams = np.flatnonzero(counted)
        counted = counted[grams]
    else:
        grams, inverse = np.unique(gram, return_inverse=True)
        counted = _step_weights_bincount(inverse, lengths, weight, len(grams))
    # symbol-space state codes → channel-space state codes (digits mapped through to_channel)
    ch_base = m + 1
    to_digit = np.append(0, to_channel + 1)

    def channel_code(code: np.ndarray) -> np.ndarray:
        out = np.zeros_like(code)
        for j in range(k):
            out += to_digit[(code // base**j) % base] * ch_base**j
        return out

    if base**k <= 1 << 22:  # journeys ending in each state, per state code (a million paths → a few states)
        ends = np.stack([np.bincount(last_state, weights=w, minlength=base**k) for w in (conv, nulls, value)])
        end_state = np.flatnonzero(ends.any(axis=0))
        ends = ends[:, end_state]
    else:
        end_state, end_inverse = np.unique(last_state, return_inverse=True)
        ends = np.stack([np.bincount(end_inverse, weights=w) for w in (conv, nulls, value)])
    src_code = channel_code(grams // base)
    dst_code = channel_code(grams % base**k)
    end_code = channel_code(end_state)
    codes_all, index = np.unique(np.concatenate([[0], src_code, dst_code, end_code]), return_inverse=True)
    n_src = len(src_code)
    src, dst = index[1 : 1 + n_src], index[1 + n_src : 1 + 2 * n_src]
    end = index[1 + 2 * n_src :]
    n = len(codes_all)
    digits = np.stack([(codes_all // ch_base**j) % ch_base - 1 for j in range(k)], axis=1)  # -1 = pad
    member = np.zeros((n, m), dtype=bool)
    for j in range(k):
        ok = np.flatnonzero(digits[:, j] >= 0)
        member[ok, digits[ok, j]] = True
    labels = [START] + [",".join(channels[d] for d in row[::-1] if d >= 0) for row in digits[1:]]
    return Chain(
        channels=channels,
        labels=labels,
        member=member,
        src=src,
        dst=dst,
        weight=counted,
        conv=np.bincount(end, weights=ends[0], minlength=n),
        null=np.bincount(end, weights=ends[1], minlength=n),
        value=np.bincount(end, weights=ends[2], minlength=n),
    )


def chain_from_transitions(counts: pd.DataFrame, order: int, state_sep: str = ",") -> Chain:
    """The chain from a transition-count table ``from_state, to_state, count[, value]`` (see
    :func:`~revalign.analytics.attribution.journeys.transition_counts`): the states are labels, a state of
    order ``k`` lists its last ``k`` channels oldest first joined by ``","``."""
    missing = [c for c in ("from_state", "to_state", "count") if c not in counts.columns]
    if missing:
        raise DataError(
            f"transition counts lack column(s) {missing}", column=missing[0], rule="from_state, to_state, count"
        )
    frame = _counts_checked(counts.reset_index(drop=True), ("count", "value"))
    for col in ("from_state", "to_state"):
        bad = np.flatnonzero(frame[col].isna().to_numpy())
        if len(bad):
            raise DataError("a state is missing", row=int(bad[0]) + 1, column=col, rule="non-null state")
    frame = frame[frame["count"].to_numpy() > 0]  # a transition no journey took is no evidence of a state
    src_l = frame["from_state"].astype(str).to_numpy(dtype=object)
    dst_l = frame["to_state"].astype(str).to_numpy(dtype=object)
    for col, labels, wrong in (("from_state", src_l, (CONVERSION, NULL)), ("to_state", dst_l, (START,))):
        bad = np.flatnonzero(np.isin(labels, wrong))
        if len(bad):
            raise DataError(
                f"no transition can {'leave' if col == 'from_state' else 'enter'} {labels[bad[0]]}",
                row=int(bad[0]) + 1,
                column=col,
                rule="absorbing states are (conversion), (null); the chain begins at (start)",
                value=labels[bad[0]],
            )
    terminal = np.isin(dst_l, (CONVERSION, NULL))
    states = sorted((set(src_l) | set(dst_l[~terminal])) - {START})
    parts = {s: s.split(state_sep) if order > 1 else [s] for s in states}
    for i, (s, d) in enumerate(zip(src_l, dst_l, strict=True)):
        if s == START and not terminal[i] and len(parts[d]) != 1:
            raise DataError(
                f"a first state must hold one channel; {d!r} does not (a channel name contains {state_sep!r}?)",
                row=i + 1,
                column="to_state",
                rule=f"order-{order} states list at most {order} channels joined by {state_sep!r}",
                value=d,
            )
    too_long = [s for s in states if len(parts[s]) > order or "" in parts[s]]
    if too_long:
        raise DataError(
            f"state {too_long[0]!r} does not list 1 to {order} channels joined by {state_sep!r}",
            column="to_state",
            rule=f"order-{order} states",
            value=too_long[0],
        )
    channels = sorted({c for s in states for c in parts[s]})
    labels = [START, *states]
    index = {label: i for i, label in enumerate(labels)}
    rank = {c: i for i, c in enumerate(channels)}
    member = np.zeros((len(labels), len(channels)), dtype=bool)
    for s in states:
        member[index[s], [rank[c] for c in parts[s]]] = True
    n = len(labels)
    count = frame["count"].to_numpy()
    value = frame["value"].to_numpy()
    src = np.array([index[s] for s in src_l], dtype=np.int64)
    is_conv, is_null = dst_l == CONVERSION, dst_l == NULL
    inner = ~terminal
    return Chain(
        channels=channels,
        labels=labels,
        member=member,
        src=src[inner],
        dst=np.array([index[d] for d in dst_l[inner]], dtype=np.int64),
        weight=count[inner],
        conv=np.bincount(src[is_conv], weights=count[is_conv], minlength=n),
        null=np.bincount(src[is_null], weights=count[is_null], minlength=n),
        value=np.bincount(src[is_conv], weights=value[is_conv], minlength=n),
    )


class MarkovAttribution(BaseEstimator):
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

    def __init__(self, *, order: int = 1, separator: str = ">") -> None:
        self.order = order
        self.separator = separator

    def _check_order(self) -> None:
        if not isinstance(self.order, int) or isinstance(self.order, bool) or self.order < 1:
            raise ValueError(f"order must be an integer >= 1. Got {self.order!r} instead.")

    def fit(self, paths: pd.DataFrame, y: object = None) -> MarkovAttribution:
        """Learn the chain from a path table ``path, conversions, nulls[, value]`` (paths may repeat)."""
        self._check_order()
        paths = _validated(paths)
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
