"""The text steps of a mapping column (blanks, value maps, typed empty and constant columns), hand-worked.

These run on Arrow kernels for speed (a million-row export costs column passes, not Python per cell); the
expected values here are written out by hand, on an index that is not 0..n-1, so a step that aligned by label
instead of by position, or changed a label's meaning, fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from revalign.sources.mapping import ValueMap
from revalign.sources.values import PANDAS_DTYPES, apply_value_map, blank_out, constant, empty

INDEX = pd.Index([40, 41, 42, 43, 44, 45, 46])
CELLS = pd.Series(["  Web ", "", "NULL", None, "ÉMAIL\t", "web", "Fax"], index=INDEX, dtype="str")


def _values(series: pd.Series) -> list[object]:
    return [None if pd.isna(v) else v for v in series]


def test_blank_out_trims_and_blanks_the_no_value_labels() -> None:
    out = blank_out(CELLS, ["", "NULL"])
    assert out.index.equals(INDEX) and out.dtype == "str"
    assert _values(out) == ["Web", None, None, None, "ÉMAIL", "web", "Fax"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # case-insensitive: "Web" and "web" are one label; a label mapped to nothing becomes missing
        (
            {"map": {"web": "organic", "émail": "email", "fax": None}, "ignore_case": True},
            ["organic", None, None, None, "email", "organic", None],
        ),
        # case-sensitive, unmapped labels → other, blanks → blank
        (
            {"map": {"Web": "organic"}, "ignore_case": False, "other": "other", "blank": "unknown"},
            ["organic", "unknown", "unknown", "unknown", "other", "other", "other"],
        ),
        # unmapped labels kept as written
        ({"map": {"web": "organic"}, "ignore_case": False}, ["Web", None, None, None, "ÉMAIL", "organic", "Fax"]),
    ],
)
def test_value_map(spec: dict[str, object], expected: list[object]) -> None:
    out = apply_value_map(blank_out(CELLS, ["", "NULL"]), ValueMap(**spec))
    assert out.index.equals(INDEX) and out.dtype == "str"
    assert _values(out) == expected


@pytest.mark.parametrize("dtype", sorted(PANDAS_DTYPES))
def test_empty_columns_are_typed_nulls_on_the_given_index(dtype: str) -> None:
    out = empty(dtype, INDEX)
    assert out.index.equals(INDEX) and str(out.dtype) == PANDAS_DTYPES[dtype] and out.isna().all()


def test_constant_text_is_positional() -> None:
    out = constant("lead", "string", len(INDEX), INDEX)
    assert out.index.equals(INDEX) and out.dtype == "str" and list(out) == ["lead"] * len(INDEX)
    assert constant(None, "string", 3, pd.RangeIndex(3)).isna().all()
    stamps = constant("2024-05-01T10:00:00+02:00", "timestamp", 2, pd.RangeIndex(2))
    assert (stamps.to_numpy() == np.datetime64("2024-05-01T08:00:00")).all()
