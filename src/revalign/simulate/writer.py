"""Turning generated numpy columns into canonical Arrow tables, and writing them to Parquet.

The generator works in numbers (times are float days since the simulation start, categories are small
integer codes); this module is the one place that turns them into ids, timestamps, dates and strings, and
casts every table to exactly ``TABLES[name].schema.to_pyarrow()`` so whatever loads the files sees the
canonical types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from revalign.model.tables import TABLES

_EPOCH = dt.date(1970, 1, 1)
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "write_statistics": True}


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, vectorised (``ids("L", [1], 4)`` → ``"L0001"``)."""
    text = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "")


def timestamps(days: np.ndarray, start: dt.date) -> pa.Array:
    """Float days since ``start`` (NaN = null) → naive UTC ``timestamp[us]``, rounded to the second."""
    days = np.asarray(days, dtype=np.float64)
    base = (start - _EPOCH).days * 86_400
    mask = np.isnan(days)
    secs = np.round(np.where(mask, 0.0, days) * 86_400.0).astype(np.int64) + base
    return pa.array(secs * 1_000_000, type=pa.timestamp("us"), mask=mask)


def dates(days: np.ndarray, start: dt.date) -> pa.Array:
    """Float days since ``start`` (NaN = null) → ``date32`` (the calendar day containing that time)."""
    days = np.asarray(days, dtype=np.float64)
    mask = np.isnan(days)
    n = np.floor(np.where(mask, 0.0, days)).astype(np.int32) + (start - _EPOCH).days
    return pa.array(n, type=pa.date32(), mask=mask)


def take(values: Sequence[str], codes: np.ndarray) -> pa.Array:
    """Categorical codes (−1 = null) → strings from ``values``."""
    codes = np.asarray(codes, dtype=np.int64)
    mask = codes < 0
    dictionary = pa.array(list(values), type=pa.string())
    return pc.take(dictionary, pa.array(np.where(mask, 0, codes), mask=mask))


def canonical(name: str, columns: Mapping[str, Any], length: int | None = None) -> pa.Table:
    """A table with exactly the canonical schema of ``name``; columns not given are all null."""
    schema = TABLES[name].schema.to_pyarrow()
    if length is None:
        length = len(next(iter(columns.values()))) if columns else 0
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise ValueError(f"{name}: columns {sorted(unknown)} are not in the canonical schema")
    arrays = []
    for f in schema:
        value = columns.get(f.name)
        if value is None:
            arrays.append(pa.nulls(length, type=f.type))
            continue
        arr = value if isinstance(value, pa.Array | pa.ChunkedArray) else pa.array(value)
        arrays.append(arr.cast(f.type) if arr.type != f.type else arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def empty(name: str) -> pa.Table:
    return TABLES[name].schema.to_pyarrow().empty_table()


def write_table(table: pa.Table, path: Path) -> None:
    """Write one Parquet file; byte-identical for identical tables (no timestamps or writer ids inside)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)


class PartWriter:
    """Writes ``folder/<table>/part-NNNNN.parquet`` one chunk at a time, so memory stays bounded."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.parts: dict[str, int] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        n = self.parts.get(name, 0)
        if table.num_rows == 0 and n > 0:
            return
        write_table(table, self.folder / name / f"part-{n:05d}.parquet")
        self.parts[name] = n + 1
        self.rows[name] = self.rows.get(name, 0) + table.num_rows
