"""Cells that are safe to open in a spreadsheet (the OWASP CSV-injection rule), for every CSV/XLSX we export.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some of
them, a tab or carriage return) as a formula, so a lead whose company is ``=HYPERLINK("http://evil", "x")`` —
text anyone can type into a web form that ends up in the CRM — would become a live link or command in the
analyst's sheet. OWASP's rule: prefix such a cell with an apostrophe, which the spreadsheet shows as text. A cell
that is a plain number (``-12.5``, ``+3``, ``-1e3``) is left alone so numbers stay numbers.

One function for every export: the server's CSV downloads and any CLI CSV output call :func:`safe_frame`.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP CSV Injection)."""

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula; else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are neutralised by :func:`safe_cell`.

    Numeric, boolean and date columns cannot hold a formula and are passed through untouched.
    """
    out = frame.copy()
    out.columns = [safe_cell(str(c)) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(position, column.map(safe_cell, na_action="ignore"))
    return out
