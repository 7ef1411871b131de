"""The Arrow fast paths of ``values.cast`` give what pandas' parse (the path they skip) gives, cell for cell.

Numbers and ISO times of a clean export are cast by one Arrow kernel; any cell outside the plain pattern sends
the whole column back to ``pd.to_numeric`` / ``pd.to_datetime``. The oracle here is pandas itself, called
directly, on columns that take the fast path (plain cells and blanks) and on columns that do not (bad cells).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from revalign.sources.mapping import ColumnSpec
from revalign.sources.values import _plain_numbers, _plain_times, blank_out, cast

NULLS = ["", "NULL", "-"]


def _cast(cells: list[str], dtype: str, timezone: str = "UTC") -> tuple[pd.Series, dict[str, list[int]]]:
    text = blank_out(pd.Series(cells, dtype="str"), NULLS)
    values, failures = cast(text, dtype, ColumnSpec(**{"from": "x"}), timezone=timezone, fx_rate=None, source="x")
    return values, {f.rule: np.flatnonzero(f.mask).tolist() for f in failures if f.mask.any()}


def _pandas_numbers(cells: list[str]) -> pd.Series:
    text = pd.Series([None if c.strip() in NULLS else c.strip() for c in cells], dtype=object)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _random_decimals(rng: np.random.Generator, n: int) -> list[str]:
    out = []
    for k in range(n):
        digits = str(rng.integers(0, 10**14))[: rng.integers(1, 15)]
        cut = int(rng.integers(0, len(digits) + 1))
        sign = "-" if k % 5 == 0 else ""
        out.append(sign + (digits[:cut] + "." + digits[cut:] if k % 3 else digits))
    return out


@pytest.mark.parametrize("bad", [None, "12x", "1e3", "nan", "inf", "."])
def test_floats_match_pandas(bad: str | None) -> None:
    cells = [*_random_decimals(np.random.default_rng(7), 5_000), "", "NULL", " 3.25 "]
    if bad is not None:
        cells[17] = bad
    values, failures = _cast(cells, "float64")
    expected = _pandas_numbers(cells)
    finite = expected.where(np.isfinite(expected))
    np.testing.assert_array_equal(values.to_numpy(), finite.to_numpy())  # NaN == NaN here
    unparsed = [17] if bad in ("12x", ".") else []
    assert failures.get("type_cast", []) == unparsed
    assert failures.get("non_finite", []) == ([17] if bad in ("nan", "inf") else [])


@pytest.mark.parametrize(
    ("cells", "loaded", "failed"),
    [
        (["1", "-22", "", "333"], [1, -22, None, 333], {}),
        (["1", "2", "3"], [1, 2, 3], {}),
        (["1", "2.5", ""], [1, None, None], {"type_cast": [1]}),
        (["7", "99999999999999999999"], [7, None], {"out_of_range": [1]}),
        (["+4", "NULL", "x"], [4, None, None], {"type_cast": [2]}),
    ],
)
def test_whole_numbers(cells: list[str], loaded: list[int | None], failed: dict[str, list[int]]) -> None:
    values, failures = _cast(cells, "int64")
    assert str(values.dtype) == "Int64"
    assert [None if pd.isna(v) else int(v) for v in values] == loaded
    assert failures == failed


def test_whole_numbers_match_pandas_beside_blanks() -> None:
    rng = np.random.default_rng(3)
    ints = rng.integers(-(10**15), 10**15, 2_000)
    cells = [str(i) if i % 11 else "" for i in ints]
    values, failures = _cast(cells, "int64")
    expected = _pandas_numbers(cells)
    assert values.isna().tolist() == expected.isna().tolist()
    assert values.dropna().astype("int64").tolist() == expected.dropna().astype("int64").tolist()
    assert failures == {}


@pytest.mark.parametrize("bad", [None, "2024-02-30", "2024-13-01", "31/12/2024", "2024-03-01T10:00:00Z", "1850-01-01"])
@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin"])
def test_iso_times_match_pandas(bad: str | None, timezone: str) -> None:
    rng = np.random.default_rng(11)
    stamps = np.datetime64("2023-01-01T00:00:00") + rng.integers(0, 2 * 365 * 86_400, 3_000).astype("timedelta64[s]")
    cells = [str(s) for s in np.datetime_as_string(stamps, unit="s")]
    cells[1], cells[2], cells[3], cells[4] = "2024-05-06", "2024-05-06 07:08", "", "2024-05-06 07:08:09.123456"
    if bad is not None:
        cells[5] = bad
    values, failures = _cast(cells, "timestamp", timezone)
    text = pd.Series([None if c in NULLS else c for c in cells], dtype=object)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if bad != "2024-03-01T10:00:00Z":  # naive text is read in the project's time zone
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        parsed = parsed.dt.tz_localize(timezone, ambiguous=False, nonexistent="shift_forward").dt.tz_convert("UTC")
    expected = parsed.dt.tz_localize(None).astype("datetime64[us]")
    pd.testing.assert_series_equal(values, expected, check_names=False)
    broken = [] if bad in (None, "2024-03-01T10:00:00Z", "1850-01-01") else [5]
    assert failures.get("date_format", []) == broken


def test_clean_columns_take_the_arrow_path_and_bad_ones_do_not() -> None:
    """The comparisons above cover both paths only if a clean column takes the fast one and a bad cell does not."""
    clean = blank_out(pd.Series(["1.5", "", "2"], dtype="str"), NULLS)
    assert _plain_numbers(clean, "float64") is not None
    assert _plain_numbers(blank_out(pd.Series(["1.5", "1e3"], dtype="str"), NULLS), "float64") is None
    assert _plain_times(blank_out(pd.Series(["2024-01-02T03:04:05", ""], dtype="str"), NULLS)) is not None
    assert _plain_times(blank_out(pd.Series(["2024-01-02", "2024-02-30"], dtype="str"), NULLS)) is None
