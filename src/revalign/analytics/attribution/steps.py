"""The steps of a path table's path strings, split in bulk: one channel code per step, steps per path.

At a million paths (ten million steps) this is most of a Markov fit, so it never makes Python strings per step.
With a one-byte separator (the ``">"`` every path table here uses) it works on the Arrow string buffer itself:
a step starts at its path's start or right after a separator byte, so the step starts are found with one
vectorised comparison, the steps become a zero-copy Arrow string array over the same bytes (each step still
carrying its surrounding blanks and trailing separator), and Arrow's hash kernel dictionary-encodes them. Only
the few distinct raw steps (``"email >"``, ``" email"``, …) are cleaned in Python and mapped to channels. The
separator byte cannot occur inside a multi-byte UTF-8 character, so this is exact for any UTF-8 text. Other
separators use Arrow's ``split_pattern``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.errors import DataError


def path_chunks(column: pd.Series) -> list[pa.LargeStringArray]:
    """The path column as Arrow ``large_string`` chunks (zero-copy for Arrow-backed pandas; not combined, which
    would copy every byte once more)."""
    arr = column if isinstance(column, (pa.Array, pa.ChunkedArray)) else pa.array(column)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pa.array(column.astype(str).to_numpy(dtype=object), type=pa.large_string())
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    return [c if pa.types.is_large_string(c.type) else c.cast(pa.large_string()) for c in chunks if len(c)]


def _raw_steps(arr: pa.LargeStringArray, sep: str) -> tuple[pa.Array | None, np.ndarray]:
    """Uncleaned steps (Arrow strings) and the number of steps per path; ``(None, rows)`` for rows that are
    empty or end in the separator (an empty last step the byte scan cannot see)."""
    if len(sep) == 1 and sep.isascii() and not sep.isspace():
        _, obuf, dbuf = arr.buffers()
        offsets = np.frombuffer(obuf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
        lo, hi = int(offsets[0]), int(offsets[-1])
        if not (offsets[1:] > offsets[:-1]).all():
            return None, np.flatnonzero(offsets[1:] <= offsets[:-1])
        data = np.frombuffer(dbuf, dtype=np.uint8, count=hi)[lo:hi]
        path_start = offsets[:-1] - lo
        # starts[i + 1] = "byte i is the separator": a step starts right after one, or at its path's start
        starts_mask = np.empty(hi - lo + 1, dtype=bool)
        starts_mask[0] = False
        np.equal(data, ord(sep), out=starts_mask[1:])
        ends_in_sep = np.flatnonzero(starts_mask[offsets[1:] - lo])
        if len(ends_in_sep):
            return None, ends_in_sep
        starts_mask[path_start] = True
        starts = np.flatnonzero(starts_mask[:-1])
        del starts_mask
        lengths = np.diff(np.append(np.searchsorted(starts, path_start), len(starts)))
        step_offsets = np.empty(len(starts) + 1, dtype=np.int64)
        np.add(starts, lo, out=step_offsets[:-1])
        step_offsets[-1] = hi
        steps = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(step_offsets), dbuf)
        return steps, lengths
    lists = pc.split_pattern(arr, sep)
    return pc.list_flatten(lists), pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)


def raw_steps(paths: pd.DataFrame, sep: str = ">") -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Raw step ids, steps per path, raw id → channel code, sorted channel names.

    Raw ids index the distinct *uncleaned* steps (``"email >"`` and ``" email"`` are two raw ids of one
    channel); ``lut[raw]`` is the channel code. Callers that only count first-order transitions count raw id
    pairs and map the small result, sparing a pass over every step.
    """
    raw_ids: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    dictionary: list[str] = []
    done = 0
    for chunk in path_chunks(paths["path"]):
        steps, n = _raw_steps(chunk, sep)
        if steps is None:  # n holds the chunk rows of empty paths / paths ending in the separator
            _empty_step(paths, done + int(n[0]))
        encoded = pc.dictionary_encode(steps)
        ids = encoded.indices.to_numpy(zero_copy_only=False)  # int32: callers widen while computing with it
        raw_ids.append(ids + np.int32(len(dictionary)) if dictionary else ids)
        dictionary.extend(encoded.dictionary.to_pylist())
        lengths.append(n)
        done += len(chunk)
    clean = [_clean(s, sep) for s in dictionary]
    names = sorted({c for c in clean if c})
    rank = {n: i for i, n in enumerate(names)}
    lut = np.array([rank.get(c, -1) for c in clean], dtype=np.int64)
    ids = np.concatenate(raw_ids) if len(raw_ids) != 1 else raw_ids[0]
    lengths_all = np.concatenate(lengths) if len(lengths) != 1 else lengths[0]
    if (lut < 0).any():
        step = int(np.flatnonzero(lut[ids] < 0)[0])
        _empty_step(paths, int(np.searchsorted(np.cumsum(lengths_all), step, side="right")))
    return ids, lengths_all, lut, names


def split_steps(paths: pd.DataFrame, sep: str = ">") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Channel code per step (codes index the sorted channel names), steps per path, sorted channel names.

    Steps are stripped of blanks, so ``"a > b"`` and ``"a>b"`` are the same path. An empty step
    (``"a >  > b"``, ``"a >"``, an empty path) is an error naming the row: it would otherwise become a channel
    called "".
    """
    ids, lengths, lut, names = raw_steps(paths, sep)
    return lut[ids], lengths, names


def _clean(raw: str, sep: str) -> str:
    s = raw.strip()
    return s[: -len(sep)].strip() if len(sep) == 1 and s.endswith(sep) else s


def _empty_step(paths: pd.DataFrame, row: int) -> None:
    raise DataError(
        "a path has an empty step",
        row=row + 1,
        column="path",
        rule="non-empty steps",
        value=paths["path"].iloc[row],
    )


def split_paths(paths: pd.DataFrame, sep: str = ">") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Flatten path strings: (channel code per step, path index per step, channel names sorted)."""
    codes, lengths, names = split_steps(paths, sep)
    return codes, np.repeat(np.arange(len(lengths)), lengths), names
