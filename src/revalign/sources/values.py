"""① Turning a column of source text into typed canonical values, vectorised, with the cells that failed.

One function per step a mapping column goes through: blanks (``null_values``), value maps (``Organic Search``
→ ``organic_search``), then the type cast (numbers, booleans, dates with a format and a time zone, money in the
project currency). Each step returns the cells it could not convert instead of raising, so the loader can
quarantine exactly those rows under the rule that failed (``type_cast``, ``date_format``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.sources.mapping import ColumnSpec, ValueMap

TRUE_LABELS = frozenset({"1", "true", "t", "yes", "y"})
FALSE_LABELS = frozenset({"0", "false", "f", "no", "n"})

PANDAS_DTYPES = {
    "string": "str",
    "int64": "Int64",
    "float64": "float64",
    "boolean": "boolean",
    "date": "datetime64[us]",
    "timestamp": "datetime64[us]",
}
"""How each canonical type is held in memory while loading (dates as midnight timestamps until written)."""


@dataclass(frozen=True)
class Failure:
    """Cells of one column that broke ``rule``: a boolean mask over the rows, and why."""

    mask: np.ndarray
    rule: str
    message: str


def blank_out(text: pd.Series, null_values: list[str]) -> pd.Series:
    """Trimmed text with every 'no value' label (``""``, ``Select``, …) turned into a missing value.

    Arrow kernels on the column pandas already holds in Arrow: trimming, matching and masking a million cells
    cost a few column passes and no Python string per cell.
    """
    trimmed = pc.utf8_trim_whitespace(arrow_text(text))
    blank = pc.is_in(trimmed, value_set=pa.array(null_values, type=trimmed.type))
    return text_series(pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed), text.index)


def arrow_text(text: pd.Series) -> pa.Array:
    """A text column as an Arrow array: without a copy when pandas holds it in Arrow (the ``str`` type)."""
    if text.dtype != "str":
        text = text.astype("str")
    return pa.array(text)


def source_cells(text: pd.DataFrame, column: str | None, null_values: list[str]) -> pd.Series:
    """A source column's text with the 'no value' labels blanked, as objects (all missing when the mapping names
    no column or the file lacks this optional one)."""
    if column is None or column not in text.columns:
        return pd.Series(None, index=text.index, dtype=object)
    return blank_out(text[column], null_values).astype(object)


def apply_value_map(text: pd.Series, vmap: ValueMap) -> pd.Series:
    """Source labels → canonical codes; blanks → ``blank``; unmapped labels → ``other`` or kept as written."""
    arr = arrow_text(text)
    keys = pc.utf8_lower(arr) if vmap.ignore_case else arr
    table = {(k.lower() if vmap.ignore_case else k): (None if v is None else _text(v)) for k, v in vmap.map.items()}
    # a lookup by position (index_in, then take), all in Arrow: no per-cell dictionary access
    position = pc.index_in(keys, value_set=pa.array(list(table), type=arr.type))
    known = pc.is_valid(position)
    out = pc.if_else(known, pc.take(pa.array(list(table.values()), type=arr.type), position), arr)
    missing = pc.is_null(arr)
    if vmap.other is not None:
        out = pc.if_else(pc.or_(known, missing), out, pa.scalar(vmap.other, arr.type))
    if vmap.blank is not None:
        out = pc.if_else(missing, pa.scalar(vmap.blank, arr.type), out)
    return text_series(out, text.index)


def array_item(text: pd.Series, item: int) -> tuple[pd.Series, np.ndarray]:
    """Element ``item`` of each JSON array cell (``["101", "102"]`` → ``101``), blank when the array is shorter, and
    the mask of cells that are not JSON arrays (quarantined as ``type_cast``)."""
    out: list[object] = []
    bad = np.zeros(len(text), dtype=bool)
    for i, cell in enumerate(text.to_numpy(dtype=object)):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NA:
            out.append(None)
            continue
        try:
            items = json.loads(cell)
        except ValueError:
            items = None
        if not isinstance(items, list):
            bad[i] = True
            out.append(None)
        elif item < len(items) and items[item] is not None:
            out.append(_text(items[item]))
        else:
            out.append(None)
    return pd.Series(out, index=text.index, dtype=object).astype("str"), bad


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cast(
    text: pd.Series,
    dtype: str,
    spec: ColumnSpec,
    *,
    timezone: str,
    fx_rate: float | None,
    source: str,
) -> tuple[pd.Series, list[Failure]]:
    """Text (missing = NA) → values of the canonical ``dtype``; cells that do not convert are failures."""
    given = text.notna().to_numpy()
    if dtype == "string":
        return text.astype("str"), []
    if dtype in ("int64", "float64"):
        return _numbers(text, dtype, spec, fx_rate=fx_rate, source=source)
    if dtype == "boolean":
        low = text.str.lower()
        values = pd.Series(pd.NA, index=text.index, dtype="boolean")
        values[low.isin(TRUE_LABELS)] = True
        values[low.isin(FALSE_LABELS)] = False
        bad = given & values.isna().to_numpy()
        return values, [Failure(bad, "type_cast", f"{source}: not a yes/no value (1/0, true/false, yes/no)")]
    if dtype in ("date", "timestamp"):
        stamps = parse_times(text, spec.format, spec.timezone or timezone)
        if dtype == "date":
            stamps = stamps.dt.normalize()
        bad = given & stamps.isna().to_numpy()
        fmt = spec.format or "ISO 8601 (YYYY-MM-DD[ HH:MM:SS])"
        return stamps, [Failure(bad, "date_format", f"{source}: not a date in the format {fmt}")]
    raise ValueError(f"unknown canonical type {dtype!r}")


def _numbers(
    text: pd.Series, dtype: str, spec: ColumnSpec, *, fx_rate: float | None, source: str
) -> tuple[pd.Series, list[Failure]]:
    """Numbers, with the cells that are not numbers (``type_cast``), not finite (``non_finite``: ``inf``,
    ``-Infinity``, ``NaN``, ``1e309``) or outside a whole-number column's int64 range (``out_of_range``)."""
    given = text.notna().to_numpy()
    plain = _plain_numbers(text, dtype)
    if plain is not None:
        numbers, nan_text = plain, np.zeros(len(text), dtype=bool)
    else:
        numbers = pd.to_numeric(text, errors="coerce")
        nan_text = given & text.str.strip().str.lstrip("+-").str.lower().isin(["nan"]).to_numpy(dtype=bool)
    unparsed = given & numbers.isna().to_numpy() & ~nan_text
    if dtype == "int64":
        values, frac, huge, infinite = _whole_numbers(numbers)
        kind = "a whole number"
    else:
        floats = numbers.astype("float64")
        if spec.money and fx_rate is not None:
            floats = floats * fx_rate
        arr = floats.to_numpy()
        infinite = ~np.isnan(arr) & ~np.isfinite(arr)
        frac = huge = np.zeros(len(text), dtype=bool)
        values = floats.where(~infinite)
        kind = "a number"
    non_finite = nan_text | infinite
    return values, [
        Failure(unparsed | frac, "type_cast", f"{source}: not {kind}"),
        Failure(non_finite, "non_finite", f"{source}: not a finite number (inf, -inf, NaN, or too large to hold)"),
        Failure(huge, "out_of_range", f"{source}: outside the whole-number range ±{INT64_MAX:,}"),
    ]


INT64_MAX = 2**63 - 1
PLAIN_DECIMAL = r"^[+-]?[0-9]*\.?[0-9]*$"
PLAIN_INTEGER = r"^[+-]?[0-9]{1,18}$"
"""Number text that Arrow's cast reads exactly as ``pd.to_numeric`` does: integers that fit int64, and decimals
of at most 15 characters (so at most 15 digits, which both parsers round correctly; no exponent, no ``nan``)."""


def _cast_when_all(arr: pa.Array, plain: pa.Array, target: pa.DataType) -> pa.Array | None:
    """``arr`` cast to ``target`` when ``plain`` holds for every given cell (nulls, blank cells, stay missing),
    else None; also None when Arrow refuses the cast, so the caller's pandas parse reads the column and names the
    cells that fail."""
    if pc.any(pc.invert(plain)).as_py():
        return None
    try:
        return pc.cast(arr, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _plain_numbers(text: pd.Series, dtype: str) -> pd.Series | None:
    """The column parsed by one Arrow cast when every cell is plain number text (the usual export), else None
    (``pd.to_numeric`` then reads it, and tells which cells fail). A tenth of the time on a million cells."""
    arr = arrow_text(text)
    if dtype == "int64":
        plain = pc.match_substring_regex(arr, PLAIN_INTEGER)
        target = pa.int64()
    else:
        plain = pc.and_kleene(pc.match_substring_regex(arr, PLAIN_DECIMAL), pc.less_equal(pc.utf8_length(arr), 15))
        target = pa.float64()
    numbers = _cast_when_all(arr, plain, target)  # "." or "+" pass the pattern and fail the cast
    if numbers is None:
        return None
    if dtype == "int64" and numbers.null_count:
        # to_numeric gives floats (NaN for blanks): the same here, where every integer is exact as a float
        big = pc.max(pc.abs(numbers)).as_py()
        if big is not None and big >= 2**53:
            return None
        numbers = numbers.cast(pa.float64())
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index)


def _whole_numbers(numbers: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Parsed numbers → Int64 values, with masks of fractions, values beyond int64, and non-finite values.

    pandas parses a column of integer text as int64 (uint64 when one value exceeds int64), anything else as
    float64; each case is checked without a cast that could overflow."""
    n = len(numbers)
    arr = numbers.to_numpy()
    none = np.zeros(n, dtype=bool)
    if numbers.dtype.kind in "iu":
        huge = arr > INT64_MAX if numbers.dtype.kind == "u" else none
        ints = np.where(huge, 0, arr).astype(np.int64)
        return pd.Series(pd.arrays.IntegerArray(ints, huge), index=numbers.index), none, huge, none
    floats = numbers.astype("float64").to_numpy()
    missing = np.isnan(floats)
    infinite = ~missing & ~np.isfinite(floats)
    huge = ~missing & ~infinite & (np.abs(floats) >= 2.0**63)
    frac = ~missing & ~infinite & ~huge & (np.mod(np.where(missing | infinite | huge, 0, floats), 1) != 0)
    drop = missing | infinite | huge | frac
    ints = np.where(drop, 0, floats).round().astype(np.int64)
    return pd.Series(pd.arrays.IntegerArray(ints, drop), index=numbers.index), frac, huge, infinite


EPOCH_UNITS = {"epoch_ms": "ms", "epoch_s": "s"}
"""``format:`` names for numbers counting time since 1970-01-01 UTC (HubSpot's property history, as Airbyte syncs
it, stamps changes in epoch milliseconds)."""


def parse_times(text: pd.Series, fmt: str | None, timezone: str) -> pd.Series:
    """Timestamps as naive UTC: naive text is read in ``timezone``; text with an offset keeps its offset; with
    ``fmt`` ``epoch_ms``/``epoch_s`` a number of (milli)seconds since the epoch, always UTC."""
    if fmt in EPOCH_UNITS:
        return _epoch_times(text, EPOCH_UNITS[fmt])
    fmt = fmt or "ISO8601"
    plain = _plain_times(text) if fmt == "ISO8601" else None
    if plain is not None:
        return _to_utc(plain, timezone)
    try:
        stamps = pd.to_datetime(text, format=fmt, errors="coerce")
    except ValueError:  # mixed offsets
        return pd.to_datetime(text, format=fmt, errors="coerce", utc=True).dt.tz_localize(None).astype("datetime64[us]")
    if getattr(stamps.dt, "tz", None) is not None:
        return stamps.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return _to_utc(stamps, timezone)


PLAIN_TIME = r"^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?$"
"""ISO 8601 text without an offset, in 1900–2099 (well inside pandas' range), to the microsecond: what Arrow's
cast reads exactly as ``pd.to_datetime(format="ISO8601")`` does."""


def _plain_times(text: pd.Series) -> pd.Series | None:
    """The column parsed by one Arrow cast when every cell is plain ISO text (the usual export), else None
    (pandas then reads it, and tells which cells fail: an impossible date such as 2024-02-30 makes the cast fail)."""
    arr = arrow_text(text)
    stamps = _cast_when_all(arr, pc.match_substring_regex(arr, PLAIN_TIME), pa.timestamp("us"))
    if stamps is None:
        return None
    return pd.Series(stamps.to_numpy(zero_copy_only=False), index=text.index).astype("datetime64[us]")


def _to_utc(stamps: pd.Series, timezone: str) -> pd.Series:
    """Naive stamps read in ``timezone`` as naive UTC."""
    if timezone not in ("UTC", "utc", "Etc/UTC"):
        stamps = (
            stamps.dt.tz_localize(timezone, ambiguous=np.zeros(len(stamps), dtype=bool), nonexistent="shift_forward")
            .dt.tz_convert("UTC")
            .dt.tz_localize(None)
        )
    return stamps.astype("datetime64[us]")


def _epoch_times(text: pd.Series, unit: str) -> pd.Series:
    """Whole numbers of ``unit`` since the epoch → naive UTC timestamps; anything else (a fraction of a
    millisecond, text, a number beyond year 9999) → missing, which the caller reports as ``date_format``."""
    numbers = pd.to_numeric(text, errors="coerce")
    limit = 253402300799 * (1000 if unit == "ms" else 1)  # 9999-12-31 23:59:59
    ok = numbers.notna() & (numbers.abs() <= limit) & (numbers % 1 == 0)
    whole = numbers.where(ok).astype("Int64")
    return pd.to_datetime(whole, unit=unit, errors="coerce").astype("datetime64[us]")


def constant(value: object, dtype: str, n: int, index: pd.Index) -> pd.Series:
    """A constant column of ``n`` rows in the canonical in-memory type."""
    if value is None:
        return empty(dtype, index)
    if dtype in ("date", "timestamp"):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        if dtype == "date":
            stamp = stamp.normalize()
        return pd.Series(stamp, index=index).astype("datetime64[us]")
    if dtype == "boolean" and isinstance(value, str):
        value = value.lower() in TRUE_LABELS
    if dtype == "string":  # one Arrow kernel, not a million Python strings converted one by one
        return text_series(pa.repeat(pa.scalar(str(value), pa.string()), n), index)
    return pd.Series([value] * n, index=index).astype(PANDAS_DTYPES[dtype])


def empty(dtype: str, index: pd.Index) -> pd.Series:
    """An all-missing column in the canonical in-memory type.

    Text nulls come straight from Arrow: casting a column of ``NA`` objects to ``str`` walks every row in Python
    (about 0.1 s per million rows, for each absent optional column of a large export).
    """
    n = len(index)
    if dtype == "string":
        return text_series(pa.nulls(n, pa.string()), index)
    if dtype == "float64":
        return pd.Series(np.full(n, np.nan), index=index)
    if dtype in ("date", "timestamp"):
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[us]"), index=index)
    if dtype == "int64":
        return pd.Series(pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)), index=index)
    if dtype == "boolean":
        return pd.Series(pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool)), index=index)
    return pd.Series(pd.NA, index=index).astype(PANDAS_DTYPES[dtype])


def text_series(values: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """Arrow text as a pandas ``str`` column on ``index`` (positionally: Arrow has no index to align by)."""
    return pd.Series(values.to_pandas().array, index=index)
