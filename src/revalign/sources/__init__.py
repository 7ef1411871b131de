"""① Sources: folders of CRM, marketing and billing exports → the canonical revenue model.

``ingest(project, "exports/", mapping="olist")`` reads every file the mapping names, keeps it as read
(``_raw_*``), validates rows under named rules (``sources.rules``; rejected rows go to ``_quarantine``),
upserts the canonical current-state tables and records changed fields in the ledger (``sources.load``: plan,
read through a ``Reader``, validate, diff, write). The mapping is YAML
(``sources.mapping``; shipped ones in ``sources/mappings/``; ``docs/mappings.md``).
"""

from __future__ import annotations

from revalign.sources.load import LoadReport, TableLoad, ingest, load_history, table_counts
from revalign.sources.mapping import Mapping, load_mapping, shipped_mappings
from revalign.sources.quarantine import quarantine_summary, quarantined

__all__ = [
    "LoadReport",
    "Mapping",
    "TableLoad",
    "ingest",
    "load_history",
    "load_mapping",
    "quarantine_summary",
    "quarantined",
    "shipped_mappings",
    "table_counts",
]
