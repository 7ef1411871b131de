"""Append targets (tables without a key) are keyed by row content: a re-saved or re-exported file adds only new rows.

Before, appends were keyed by the file's sha256, so the same spend file saved with CRLF line endings loaded twice.
The expected counts are read off the literal CSV text below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from revalign.engine import Engine, connect
from revalign.sources import ingest

SPEND = [
    "Date,Amount,Channel,Campaign ID",
    "2024-01-01,100.00,Paid Search,C1",
    "2024-01-01,100.00,Paid Search,C1",  # the same spend twice in one export: two rows
    "2024-01-02,50.5,Email,C2",
    "2024-01-03,75,Events,",
]


@pytest.fixture
def db() -> Engine:
    engine = connect("duckdb://:memory:")
    yield engine
    engine.close()


def _write(folder: Path, lines: list[str], newline: str = "\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spend.csv").write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return folder


def _spend(engine: Engine) -> tuple[int, float]:
    t = engine.table("spend")
    return int(engine.execute(t.count())), float(engine.execute(t.amount.sum()))


def test_a_crlf_resave_of_the_spend_file_adds_no_rows(tmp_path: Path, db: Engine) -> None:
    ingest(db, _write(tmp_path / "lf", SPEND), "generic_crm")
    assert _spend(db) == (4, 325.5)  # 100 + 100 + 50.5 + 75
    report = ingest(db, _write(tmp_path / "crlf", SPEND, newline="\r\n"), "generic_crm")
    assert not report.skipped_as_duplicate  # other bytes: the file is read again ...
    assert _spend(db) == (4, 325.5)  # ... and adds nothing
    (spend,) = report.tables
    assert (spend.rows_read, spend.rows_loaded, spend.rows_unchanged) == (4, 4, 4)


def test_other_number_formats_and_quoting_are_the_same_content(tmp_path: Path, db: Engine) -> None:
    ingest(db, _write(tmp_path / "a", SPEND), "generic_crm")
    resaved = ['"Date","Amount","Channel","Campaign ID"', *(line.replace("100.00", "100") for line in SPEND[1:])]
    ingest(db, _write(tmp_path / "b", resaved), "generic_crm")
    assert _spend(db) == (4, 325.5)


def test_an_overlapping_export_adds_only_rows_beyond_those_held(tmp_path: Path, db: Engine) -> None:
    ingest(db, _write(tmp_path / "a", SPEND), "generic_crm")
    overlap = [
        SPEND[0],
        "2024-01-01,100.00,Paid Search,C1",  # held twice already: nothing
        "2024-01-03,75,Events,",  # held: nothing
        "2024-01-03,75,Events,",  # a second one of this content: new
        "2024-01-04,20,Email,C2",  # new
    ]
    report = ingest(db, _write(tmp_path / "b", overlap), "generic_crm")
    assert _spend(db) == (6, 420.5)  # 325.5 + 75 + 20
    (spend,) = report.tables
    assert (spend.rows_read, spend.rows_loaded, spend.rows_unchanged) == (4, 4, 2)
