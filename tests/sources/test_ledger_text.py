"""The text a value is compared and stored as in the ledger: one format per kind, the same for every column
shape, including an object column that mixes Python types (which Arrow cannot type)."""

from __future__ import annotations

import pandas as pd

from revalign.sources.load.frames import ledger_text


def test_each_kind_reads_as_the_ledger_has_always_held_it() -> None:
    stamps = pd.Series(pd.to_datetime(["2025-01-02 03:04:05.678", None]))
    assert ledger_text(stamps).to_pylist() == ["2025-01-02 03:04:05", None]
    assert ledger_text(pd.Series([0.1, 2.0, None])).to_pylist() == [repr(0.1), repr(2.0), None]
    assert ledger_text(pd.Series([True, False, None], dtype="boolean")).to_pylist() == ["true", "false", None]
    assert ledger_text(pd.Series(["a", None], dtype=object)).to_pylist() == ["a", None]


def test_a_column_mixing_python_types_is_each_values_text() -> None:
    mixed = pd.Series([1, "two", 3.5, None], dtype=object)
    assert ledger_text(mixed).to_pylist() == ["1", "two", "3.5", None]
