"""① Canonical tables in the loader's memory: Arrow ↔ pandas in fixed types, key indexes, values as ledger text.

A load merges, compares and quarantines in pandas, in the types of ``values.PANDAS_DTYPES`` (dates as midnight
timestamps, nullable integers and booleans), and writes Arrow in the canonical schema. The conversions live here
so that every stage reads and writes a table the same way; the text form of a value is the one the ledger and
the quarantine ``key`` hold, so comparing two exports and naming a rejected row's key agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.engine import Engine
from revalign.model.tables import canonical_table
from revalign.sources import quarantine
from revalign.sources.values import PANDAS_DTYPES, empty


def existing(engine: Engine, present: set[str], table: str) -> pd.DataFrame:
    """The canonical table as stored, in the loader's in-memory types, indexed by its key."""
    model = canonical_table(table)
    empty_table = model.schema.to_pyarrow().empty_table()
    arrow = engine.to_pyarrow(engine.table(table)) if table in present else empty_table
    frame = from_arrow(arrow, table)
    frame.index = key_index(frame, model.primary_key)
    return frame


def from_arrow(arrow: pa.Table, table: str) -> pd.DataFrame:
    """A stored table in the in-memory types (every canonical column; absent ones as typed nulls)."""
    model = canonical_table(table)
    cols: dict[str, pd.Series] = {}
    for c in model.columns:
        if c.name in arrow.column_names:
            arr = arrow.column(c.name)
            if pa.types.is_date(arr.type):
                arr = arr.cast(pa.timestamp("us"))
            if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
                arr = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
            series = arr.to_pandas()
            cols[c.name] = series.astype(PANDAS_DTYPES[c.dtype])
        else:
            cols[c.name] = empty(c.dtype, pd.RangeIndex(arrow.num_rows))
    return pd.DataFrame(cols)


def conform(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """``frame`` with exactly the canonical columns of ``table`` in their in-memory types.

    Only columns whose type differs are cast and absent ones are typed nulls from the start: ``reindex`` then
    ``astype`` would fill each absent text column with float NaN and convert it row by row (a quarter of a
    second per column of a million rows).
    """
    model = canonical_table(table)
    cols: dict[str, pd.Series] = {}
    for c in model.columns:
        dtype = PANDAS_DTYPES[c.dtype]
        if c.name not in frame.columns:
            cols[c.name] = empty(c.dtype, frame.index)
        elif frame[c.name].dtype != dtype:
            cols[c.name] = frame[c.name].astype(dtype)
        else:
            cols[c.name] = frame[c.name]
    return pd.DataFrame(cols, index=frame.index)


def to_arrow(frame: pd.DataFrame, table: str) -> pa.Table:
    """``frame`` in the canonical schema of ``table`` (a missing column becomes nulls)."""
    schema = canonical_table(table).schema.to_pyarrow()
    # positions only: Arrow ignores the index, and asking a Series on a million-key object index for
    # ``__arrow_array__`` makes pandas hash that index (half a second per write of a keyed table)
    frame = frame.reset_index(drop=True)
    arrays = []
    for f in schema:
        series = frame[f.name] if f.name in frame else pd.Series(pd.NA, index=frame.index)
        if pa.types.is_date(f.type):
            arr = pa.array(series.astype("datetime64[us]"), from_pandas=True).cast(pa.date32())
        elif pa.types.is_string(f.type):
            arr = pa.array(series.astype("str"), from_pandas=True, type=pa.string())
        else:
            arr = pa.array(series, from_pandas=True).cast(f.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def key_index(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.Index:
    """The primary key as an index (a plain range for a table without one)."""
    if not key:
        return pd.RangeIndex(len(frame))
    if len(key) == 1:
        return pd.Index(frame[key[0]].to_numpy(dtype=object), name=key[0])
    return pd.MultiIndex.from_arrays([frame[k].to_numpy(dtype=object) for k in key], names=list(key))


def ledger_text(series: pd.Series) -> pa.Array:
    """Values as text for comparing and for the ledger (null for missing), by Arrow and numpy kernels.

    The formats are the ones the ledger has always held (``YYYY-MM-DD HH:MM:SS``, ``repr`` of a float, ``true``/
    ``false``); no per-row Python, so diffing a million-row re-export costs column operations only.
    """
    series = series.reset_index(drop=True)  # Arrow reads positions; see :func:`to_arrow` for why not the index
    missing = series.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pa.array(series.astype("datetime64[us]"), type=pa.timestamp("us"), from_pandas=True)
        seconds = pc.floor_temporal(stamps, unit="second").cast(pa.timestamp("s"))
        return pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
    if pd.api.types.is_float_dtype(series):  # numpy's float64 → str is the shortest round-trip form, as repr
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
        return pa.array(floats.astype(str), type=pa.string(), mask=missing)
    if pd.api.types.is_bool_dtype(series):
        flags = series.to_numpy(dtype=bool, na_value=False)
        return pa.array(np.where(flags, "true", "false"), type=pa.string(), mask=missing)
    try:
        return pa.array(series, from_pandas=True).cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # an object column mixing Python types (ints and strings from a hand-edited export) has no Arrow type:
        # each value's own ``str`` then, still null where missing
        return pa.array(series.astype("str").to_numpy(dtype=object), type=pa.string(), mask=missing)


def key_text(frame: pd.DataFrame, key: list[str] | tuple[str, ...]) -> np.ndarray:
    """Each row's primary key as text (parts joined by ``|``), None where a part is missing."""
    return key_arrow(frame, key).to_numpy(zero_copy_only=False)


def key_arrow(frame: pd.DataFrame, key: list[str] | tuple[str, ...]) -> pa.Array:
    """:func:`key_text` as an Arrow array: for the keys of every loaded row, which a load keeps in Arrow rather
    than as a million Python strings (they are compared only when old quarantine entries are open)."""
    parts = [ledger_text(frame[k]) for k in key]
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, quarantine.KEY_SEPARATOR)


DIGEST_KEYS = ("revalign-ledger1", "revalign-ledger2")
"""Two hash keys of 16 bytes: pandas' stable 64-bit hash twice gives a 128-bit digest per text."""


def digests(text: pa.Array) -> np.ndarray:
    """A 128-bit digest of each text, as two unsigned 64-bit columns (an ``(n, 2)`` array), without a Python loop."""
    series = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    halves = [
        pd.util.hash_pandas_object(series, index=False, hash_key=key, categorize=False).to_numpy()
        for key in DIGEST_KEYS
    ]
    return np.stack(halves, axis=1)


def content_keys(frame: pd.DataFrame, table: str) -> pd.MultiIndex:
    """Each row's content key: a digest of every canonical column (in its canonical type, as text) and the
    row's occurrence number among rows of the same content (0 for the first, 1 for its first twin, …).

    The identity of a row in a table without a primary key (spend, web traffic). Values pass through
    :func:`to_arrow` first, so a re-saved file (CRLF line endings, ``10`` vs ``10.00``, other quoting) gives the
    same keys as the original; the occurrence number keeps two identical rows of one file two rows.
    """
    arrow = to_arrow(frame, table)
    parts = [arrow.column(i).cast(pa.string()) for i in range(arrow.num_columns)]
    joined = pc.binary_join_element_wise(*parts, "\x1f", null_handling="replace", null_replacement="\x00")
    digest = digests(joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined)
    pairs = pd.DataFrame({"a": digest[:, 0], "b": digest[:, 1]})
    occurrence = pairs.groupby(["a", "b"], sort=False).cumcount().to_numpy()
    return pd.MultiIndex.from_arrays([pairs["a"].to_numpy(), pairs["b"].to_numpy(), occurrence])
