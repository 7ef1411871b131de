"""① The loader: planned sources + mapping → raw copies, canonical current-state tables, ledger events, quarantine.

One :class:`LoadRun` goes through five stages, one module each: ``plan`` (which sources, what is already
loaded), ``read`` (the :class:`Reader` seam: files today, warehouse tables and CRM APIs next), ``validate`` (casts
and row rules → accepted rows and quarantine lines), ``diff`` (merge into current state, ledger rows from
re-export diffs, supersession) and ``write`` (every write at the end). ``ingest`` runs them for a folder of files.
Rules and casts are column operations (pandas over Arrow), never a Python loop over rows.
"""

from __future__ import annotations

from revalign.sources.load.log import load_history, table_counts
from revalign.sources.load.pipeline import ingest, load
from revalign.sources.load.plan import PlannedSource, plan_files
from revalign.sources.load.read import FileReader, Reader
from revalign.sources.load.run import LoadReport, LoadRun, TableLoad

__all__ = [
    "FileReader",
    "LoadReport",
    "LoadRun",
    "PlannedSource",
    "Reader",
    "TableLoad",
    "ingest",
    "load",
    "load_history",
    "plan_files",
    "table_counts",
]
