"""① The load log (``_load_log``): one row per file and target of every load, the memory that makes loads idempotent.

A source already in the log under the same mapping (same content digest) is skipped by the next load
(``load.plan``); ``revalign tables`` shows the log as the history of loads.
"""

from __future__ import annotations

from dataclasses import asdict

import ibis
import pandas as pd
import pyarrow as pa

from revalign.engine import Engine
from revalign.model.tables import TABLES
from revalign.sources.load.run import LoadRun

LOAD_LOG = "_load_log"
LOAD_LOG_SCHEMA = ibis.schema(
    {
        "load_id": "string",
        "mapping": "string",
        "source_name": "string",
        "file": "string",
        "file_sha256": "string",
        "target": "string",
        "table": "string",
        "rows_read": "int64",
        "rows_loaded": "int64",
        "rows_quarantined": "int64",
        "rows_unchanged": "int64",
        "rows_deduplicated": "int64",
        "events_added": "int64",
        "exported_at": "timestamp",
        "loaded_at": "timestamp",
    }
)


def load_history(engine: Engine | None) -> pd.DataFrame:
    """``_load_log``: one row per file and target of every load, oldest first."""
    if engine is None or not engine.has_table(LOAD_LOG):
        return pd.DataFrame({n: pd.Series(dtype="object") for n in LOAD_LOG_SCHEMA.names})
    t = engine.table(LOAD_LOG)
    return engine.execute(t.order_by([t.loaded_at, t.file, t.target])).reset_index(drop=True)


def log_rows(run: LoadRun) -> pa.Table:
    """This load's rows of the log: one per source batch and target, with the target's counts."""
    log = pd.DataFrame(
        [
            {
                "load_id": run.load_id,
                "mapping": run.spec.name,
                "source_name": run.source_name or run.spec.name,
                "file": str(p.source.path),
                "file_sha256": p.source.sha256,
                "target": p.target.name,
                **{k: v for k, v in asdict(p.stats).items() if k not in ("file", "target")},
                "exported_at": p.source.exported_at,
                "loaded_at": run.now,
            }
            for p in run.prepared
        ]
    )
    return pa.Table.from_pandas(log, preserve_index=False)


def table_counts(engine: Engine) -> pd.DataFrame:
    """Rows per canonical table (0 when never loaded), with when a load last wrote to it."""
    history = load_history(engine)
    rows = []
    for name in TABLES:
        n = int(engine.execute(engine.table(name).count())) if engine.has_table(name) else 0
        mine = history[history["table"] == name] if len(history) else history
        last = mine["loaded_at"].max() if len(mine) else None
        rows.append({"table": name, "rows": n, "last_loaded_at": last})
    return pd.DataFrame(rows)
