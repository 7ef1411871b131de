"""The Markov chain's weighted transition counts, from split path strings or from engine-side transition counts.

Both fits of :class:`~revalign.analytics.attribution.markov.MarkovAttribution` reduce their input to one
:class:`Chain` — states, which channels each state holds, weighted transitions and how many journeys end in each
state — so the removal-effect algebra runs on the same thing whichever input it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from revalign.analytics.attribution.counts import checked_counts
from revalign.errors import DataError

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_BINCOUNT_LIMIT = 1 << 22
"""Code spaces up to this size are counted with ``bincount``; larger ones with ``np.unique``."""


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


@dataclass(frozen=True)
class _Grams:
    """Every step as a transition code ``prev · base + cur`` in symbol space, and each path's last state."""

    gram: np.ndarray
    last_state: np.ndarray
    base: int
    to_channel: np.ndarray


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


def _grams(ids: np.ndarray, lengths: np.ndarray, lut: np.ndarray, m: int, k: int) -> _Grams:
    """Encode every step's transition as one integer (see :func:`chain_from_steps`)."""
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
        return _Grams(gram, symbols[last] + 1, base, to_channel)
    state = symbols + 1
    pos = np.arange(n_steps) - np.repeat(path_first, lengths)
    cur = state.copy()
    for j in range(1, k):
        ok = np.flatnonzero(pos >= j)
        state[ok] += cur[ok - j] * base**j
    prev = np.empty_like(state)
    prev[1:] = state[:-1]
    prev[path_first] = 0
    return _Grams(prev * base + cur, state[last], base, to_channel)


def _transitions(g: _Grams, lengths: np.ndarray, weight: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct transition codes and the journeys (weights) that took each."""
    size = g.base ** (k + 1)
    if size <= _BINCOUNT_LIMIT:
        counted = _step_weights_bincount(g.gram, lengths, weight, size)
        grams = np.flatnonzero(counted)
        return grams, counted[grams]
    grams, inverse = np.unique(g.gram, return_inverse=True)
    return grams, _step_weights_bincount(inverse, lengths, weight, len(grams))


def _ends(g: _Grams, k: int, amounts: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct last states and, per amount (conversions, nulls, value), the sum over the paths ending there."""
    if g.base**k <= _BINCOUNT_LIMIT:  # journeys ending in each state, per state code (a million paths → a few states)
        ends = np.stack([np.bincount(g.last_state, weights=w, minlength=g.base**k) for w in amounts])
        end_state = np.flatnonzero(ends.any(axis=0))
        return end_state, ends[:, end_state]
    end_state, end_inverse = np.unique(g.last_state, return_inverse=True)
    return end_state, np.stack([np.bincount(end_inverse, weights=w) for w in amounts])


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
    g = _grams(ids, lengths, lut, m, k)
    grams, counted = _transitions(g, lengths, conv + nulls, k)
    end_state, ends = _ends(g, k, (conv, nulls, value))
    # symbol-space state codes → channel-space state codes (digits mapped through to_channel)
    ch_base, base = m + 1, g.base
    to_digit = np.append(0, g.to_channel + 1)

    def channel_code(code: np.ndarray) -> np.ndarray:
        out = np.zeros_like(code)
        for j in range(k):
            out += to_digit[(code // base**j) % base] * ch_base**j
        return out

    src_code, dst_code = channel_code(grams // base), channel_code(grams % base**k)
    codes_all, index = np.unique(
        np.concatenate([[0], src_code, dst_code, channel_code(end_state)]), return_inverse=True
    )
    n_src = len(src_code)
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
        src=index[1 : 1 + n_src],
        dst=index[1 + n_src : 1 + 2 * n_src],
        weight=counted,
        conv=np.bincount(end, weights=ends[0], minlength=n),
        null=np.bincount(end, weights=ends[1], minlength=n),
        value=np.bincount(end, weights=ends[2], minlength=n),
    )


def _checked_transitions(counts: pd.DataFrame) -> pd.DataFrame:
    """The transition counts with checked columns and no missing state; transitions no journey took dropped."""
    missing = [c for c in ("from_state", "to_state", "count") if c not in counts.columns]
    if missing:
        raise DataError(
            f"transition counts lack column(s) {missing}", column=missing[0], rule="from_state, to_state, count"
        )
    frame = checked_counts(counts.reset_index(drop=True), ("count", "value"))
    for col in ("from_state", "to_state"):
        bad = np.flatnonzero(frame[col].isna().to_numpy())
        if len(bad):
            raise DataError("a state is missing", row=int(bad[0]) + 1, column=col, rule="non-null state")
    return frame[frame["count"].to_numpy() > 0]  # a transition no journey took is no evidence of a state


def _check_absorbing(src_l: np.ndarray, dst_l: np.ndarray) -> None:
    """No transition leaves an absorbing state or enters ``(start)``."""
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


def _state_parts(
    src_l: np.ndarray, dst_l: np.ndarray, terminal: np.ndarray, order: int, state_sep: str
) -> dict[str, list[str]]:
    """The channels of each transient state (oldest first), checked against the chain's order."""
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
    return parts


def chain_from_transitions(counts: pd.DataFrame, order: int, state_sep: str = ",") -> Chain:
    """The chain from a transition-count table ``from_state, to_state, count[, value]`` (see
    :func:`~revalign.analytics.attribution.journeys.transition_counts`): the states are labels, a state of
    order ``k`` lists its last ``k`` channels oldest first joined by ``","``."""
    frame = _checked_transitions(counts)
    src_l = frame["from_state"].astype(str).to_numpy(dtype=object)
    dst_l = frame["to_state"].astype(str).to_numpy(dtype=object)
    _check_absorbing(src_l, dst_l)
    terminal = np.isin(dst_l, (CONVERSION, NULL))
    parts = _state_parts(src_l, dst_l, terminal, order, state_sep)
    states = list(parts)
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
