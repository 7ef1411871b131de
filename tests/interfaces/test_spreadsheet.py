"""The OWASP CSV-injection rule for every export: formula-like text gets a leading apostrophe, numbers stay."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from revalign.interfaces.spreadsheet import FORMULA_PREFIXES, safe_cell, safe_frame

PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def test_formula_cells_from_the_tester_report_are_neutralised():
    assert safe_cell('=HYPERLINK("http://evil.example","x")') == '\'=HYPERLINK("http://evil.example","x")'
    assert safe_cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert safe_cell("@SUM(1+1)") == "'@SUM(1+1)"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("\t=1") == "'\t=1" and safe_cell("\r=1") == "'\r=1"
    assert safe_cell("-") == "'-"


def test_plain_numbers_and_ordinary_text_are_left_alone():
    for value in ("-12.5", "+3", "-1e3", "-.5", "12", "ok@example.com", "a=b", "", None, -12.5, 7):
        assert safe_cell(value) == value


@given(st.text(max_size=20))
def test_no_exported_text_starts_a_formula_and_the_original_is_kept(text):
    cell = safe_cell(text)
    if PLAIN_NUMBER.fullmatch(text):
        assert cell == text
    else:
        assert not cell.startswith(FORMULA_PREFIXES)
        assert cell in (text, "'" + text)


def test_safe_frame_touches_only_text_columns_and_headers():
    frame = pd.DataFrame(
        {
            "=name": ["=1+1", "Ann", None],
            "amount": [-12.5, 3.0, None],
            "note": pd.array(["@x", "-5", "fine"], dtype="string"),
        }
    )
    out = safe_frame(frame)
    assert list(out.columns) == ["'=name", "amount", "note"]
    assert out["'=name"].tolist()[:2] == ["'=1+1", "Ann"] and pd.isna(out["'=name"].iloc[2])
    assert out["amount"].dtype == frame["amount"].dtype and out["amount"].iloc[0] == -12.5
    assert out["note"].tolist() == ["'@x", "-5", "fine"]
    assert frame["=name"].iloc[0] == "=1+1"  # the input frame is not modified
