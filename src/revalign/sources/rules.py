"""① Named row rules: every rejected row says which rule it broke.

Rules are vectorised checks over a whole column (pandas), each returning a boolean mask of the rows that break
it, so validating a million rows costs a few column operations, not a Python loop. ``RULES`` names and explains
every rule a quarantined row or a :class:`~revalign.errors.SchemaError` can carry; ``revalign check`` and
``docs/mappings.md`` show the same explanations.

Row rules (the row goes to quarantine, the rest of the file loads):

- ``not_null``: a required value is missing (primary keys, non-nullable canonical columns, declared columns);
- ``type_cast``: a number or yes/no value does not parse;
- ``non_finite``: a number is ``inf``, ``-inf``, ``Infinity``, ``NaN`` or too large for a float (``1e309``);
- ``out_of_range``: a whole number does not fit the column's type (int64: beyond ±9,223,372,036,854,775,807);
- ``date_format``: a date or timestamp does not parse in the mapping's format;
- ``date_range``: a date lies outside the mapping's ``date_window`` (default 1970-01-01 to ten years ahead);
- ``enum``: a categorical value is not a canonical code (add it to the mapping's value map);
- ``unique``: the key repeats an earlier row of the same file (the first one loads);
- ``foreign_key``: a reference to a row that no loaded table holds (an ``update`` target's key counts);
- ``order_of_dates``: a later date lies before an earlier one (a deal won before the lead's first contact);
- ``non_negative``: an amount or count that cannot be below zero is (a deal of −5,000; automatic for the columns
  in ``NON_NEGATIVE`` unless the target lists the column under ``allow_negative``, e.g. credits in spend);
- ``field_count``: a line has more or fewer fields than the header;
- ``quoting``: a line's quotes do not pair up (an unterminated ``"``, or text after a closing quote); the line
  is rejected on its own, so it never swallows the lines after it.

File rules (the whole file is refused before anything is written, as a ``SchemaError``): ``empty_file``,
``encoding``, ``delimiter``, ``missing_column``, ``duplicate_column``, ``missing_file``, ``parquet``, and
``quoting`` for a target with ``multiline: true`` whose quote is still open at the end of the file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from revalign.sources.values import Failure

RULES: dict[str, str] = {
    "not_null": "A required value is missing.",
    "type_cast": "The value is not of the column's type (number, whole number, yes/no).",
    "non_finite": "The number is not finite (inf, -inf, Infinity, NaN, or too large to hold, like 1e309).",
    "out_of_range": "The whole number does not fit the column's type (int64).",
    "date_format": "The value is not a date/timestamp in the mapping's format.",
    "date_range": "The date lies outside the mapping's date_window (default 1970-01-01 to ten years after the load).",
    "enum": "The value is not one of the column's canonical codes; add the label to the mapping's value map.",
    "unique": "The key repeats an earlier row of the same file; the first row was loaded.",
    "foreign_key": "The value refers to a row that no loaded table holds.",
    "order_of_dates": "A later date lies before an earlier one.",
    "non_negative": "The value must not be below zero (list the column under allow_negative for credits).",
    "field_count": "The line has a different number of fields than the header.",
    "quoting": "The line's quotes do not pair up (an unterminated quote, or text after a closing quote).",
    "empty_file": "The file has no bytes (not even a header).",
    "encoding": "The file is not in the mapping's encoding.",
    "delimiter": "The file uses another delimiter than the mapping's.",
    "missing_column": "A column the mapping reads is not in the file.",
    "duplicate_column": "The header names a column twice.",
    "missing_file": "No file matches a target that is not optional.",
    "parquet": "The Parquet file cannot be read.",
}
"""Every rule name a quarantined row or a file error can carry, with what it means."""

NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    "accounts": ("employees",),
    "campaigns": ("budget",),
    "spend": ("amount",),
    "web_traffic": ("sessions", "visitors", "new_visitors"),
    "opportunities": ("amount",),
    "subscriptions": ("mrr",),
    "quotas": ("amount",),
    "forecasts": ("amount",),
}
"""Canonical amounts and counts that cannot be below zero: the ``non_negative`` rule runs on them automatically.
A target lists a column under ``allow_negative`` when its export holds credits or refunds as negative amounts."""


def not_null(values: pd.Series, source: str) -> Failure:
    return Failure(values.isna().to_numpy(), "not_null", f"{source}: a value is required")


def enum(values: pd.Series, allowed: tuple[str, ...], source: str) -> Failure:
    bad = (values.notna() & ~values.isin(list(allowed))).to_numpy()
    return Failure(bad, "enum", f"{source}: not one of {', '.join(allowed)}; map the label in the mapping's values")


def unique(frame: pd.DataFrame, columns: list[str], source: str) -> Failure:
    """Rows whose key repeats an earlier row (the first occurrence is kept, the later ones break the rule)."""
    key = frame[columns]
    bad = key.duplicated(keep="first").to_numpy() & key.notna().all(axis=1).to_numpy()
    return Failure(bad, "unique", f"{source}: the key repeats an earlier row of this file")


def foreign_key(values: pd.Series, known: pd.Index, ref: str, source: str) -> Failure:
    bad = (values.notna() & ~values.isin(known)).to_numpy()
    return Failure(bad, "foreign_key", f"{source}: no {ref} has this value")


def order_of_dates(
    earlier: pd.Series, later: pd.Series, names: tuple[str, str], source: str, *, by_day: bool = False
) -> Failure:
    """Rows where ``later`` lies before ``earlier``; ``by_day`` compares calendar days (a close *date* on the
    day a deal was created at 14:00 is not before it)."""
    if by_day:
        earlier, later = earlier.dt.normalize(), later.dt.normalize()
    bad = (earlier.notna() & later.notna() & (later < earlier)).to_numpy(dtype=bool)
    return Failure(bad, "order_of_dates", f"{source}: {names[1]} is before {names[0]}")


def date_range(values: pd.Series, earliest: pd.Timestamp, latest: pd.Timestamp, source: str) -> Failure:
    """Dates before ``earliest`` or after ``latest`` (a 9999-12-31 "never" date, a 1900 placeholder)."""
    bad = (values.notna() & ((values < earliest) | (values > latest))).to_numpy(dtype=bool)
    return Failure(
        bad, "date_range", f"{source}: outside {earliest:%Y-%m-%d}..{latest:%Y-%m-%d} (the mapping's date_window)"
    )


def non_negative(values: pd.Series, source: str) -> Failure:
    bad = (values.notna() & (values < 0)).to_numpy(dtype=bool)
    return Failure(bad, "non_negative", f"{source}: must not be below zero")


def first_failures(n: int, failures: list[tuple[str, Failure]]) -> np.ndarray:
    """Rows that break at least one rule."""
    out = np.zeros(n, dtype=bool)
    for _, f in failures:
        out |= f.mask
    return out
