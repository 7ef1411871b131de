"""The Reader seam: a source that is not a file (here, an Arrow table standing in for a warehouse table) loads
through the same mapping, rules, quarantine, ledger and load log as a CSV export.

The expectations are read off the hand-written rows below.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from revalign.sources import load_history, load_mapping, quarantined
from revalign.sources.load import LoadRun, PlannedSource, load
from revalign.sources.readers import SourceFile

ROWS = {
    "Lead ID": ["L1", "L2", "L3"],
    "Created Date": ["2024-01-02", "not a date", "2024-01-04"],
    "Lead Source": ["Webinar", "Email", "Paid Search"],
}


class TableReader:
    """A reader of an in-memory table: every cell as text, rows numbered from 1, a digest of the content."""

    def __init__(self, table: pa.Table, digest: str) -> None:
        self.table, self.digest = table, digest

    def read(self, source: PlannedSource) -> Iterator[SourceFile]:
        rows = np.arange(1, self.table.num_rows + 1)
        yield SourceFile(source.path, self.digest, datetime(2024, 2, 1), self.table, rows)


def _load(engine, digest: str):
    spec = load_mapping("generic_crm")
    (target,) = [t for t in spec.targets if t.name == "leads"]
    planned = [PlannedSource(Path("warehouse.crm.leads"), (target,))]
    return load(LoadRun.start(engine, spec), planned, TableReader(pa.table(ROWS), digest))


def test_a_non_file_reader_loads_through_the_mapping_rules_and_ledger(duckdb_engine):
    report = _load(duckdb_engine, "snapshot-1")
    (t,) = report.tables
    assert (t.rows_read, t.rows_loaded, t.rows_quarantined) == (3, 2, 1)
    leads = duckdb_engine.execute(duckdb_engine.table("leads")).set_index("lead_id")
    assert sorted(leads.index) == ["L1", "L3"]
    assert leads.loc["L3", "lead_source"] == "paid_search"
    bad = quarantined(duckdb_engine)
    assert [(r.file, r.row, r.column, r.rule, r.value) for r in bad.itertuples()] == [
        ("warehouse.crm.leads", 2, "Created Date", "date_format", "not a date")
    ]
    assert report.events_added == 2  # one "lead" lifecycle event per loaded lead
    raw = duckdb_engine.execute(duckdb_engine.table("_raw_generic_crm_warehouse_crm_leads"))
    assert raw["_row"].tolist() == [1, 2, 3]
    assert load_history(duckdb_engine)["file_sha256"].tolist() == ["snapshot-1"]


def test_the_same_digest_is_skipped_and_a_new_one_loads(duckdb_engine):
    _load(duckdb_engine, "snapshot-1")
    again = _load(duckdb_engine, "snapshot-1")
    assert again.skipped_as_duplicate and again.skipped_files == ["warehouse.crm.leads"]
    assert not _load(duckdb_engine, "snapshot-2").skipped_as_duplicate
